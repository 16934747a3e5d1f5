// File helpers shared by the v1 and v2 cgroup implementations.
#pragma once

#include <filesystem>
#include <string>

#include "drivers/error.h"

namespace ctrbench::lean {

Status write_file(const std::filesystem::path& path, const std::string& value);
Result<std::string> read_file(const std::filesystem::path& path);
// Reads "key N" from a flat-keyed file such as memory.events or memory.oom_control; 0 if absent.
Result<std::uint64_t> read_keyed(const std::filesystem::path& path, const std::string& key);
Result<std::vector<int>> read_pids(const std::filesystem::path& procs);
Status make_dir(const std::filesystem::path& dir);
Result<int> open_procs(const std::filesystem::path& dir);

}  // namespace ctrbench::lean

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
