// What the v1 and v2 cgroup implementations of the lean runtime share.
#pragma once

#include <vector>

#include "drivers/lean/cgroup.h"

namespace ctrbench::lean {

// What v1 and v2 share: a set of directories and an open cgroup.procs in each.
class CgroupDirs : public Cgroup {
public:
    explicit CgroupDirs(std::vector<fs::path> dirs) : dirs_(std::move(dirs)) {}
    ~CgroupDirs() override;
    Status open();  // opens every cgroup.procs
    const std::vector<int>& procs_fds() const override { return fds_; }
    Result<std::vector<int>> pids() const override;
    Status remove() override;
    const std::vector<fs::path>& dirs() const override { return dirs_; }

protected:
    std::vector<fs::path> dirs_;
    std::vector<int> fds_;
};

std::unique_ptr<CgroupDirs> make_cgroup_v1(std::vector<fs::path> dirs);
std::unique_ptr<CgroupDirs> make_cgroup_v2(fs::path dir);
// v2 only lets a child use a controller that its parent lists in cgroup.subtree_control.
Status enable_v2_controllers(const fs::path& parent);

}  // namespace ctrbench::lean
