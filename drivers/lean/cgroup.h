// Cgroups for the lean runtime: a v1 and a v2 implementation behind one interface (crun's layout),
// and a pool that hands out ready cgroups instead of making one per container (SOCK, ATC'18: cgroup
// creation is a large share of container start cost, reuse removes it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/common/cgroupfs.h"
#include "drivers/driver.h"

namespace ctrbench::lean {

namespace fs = std::filesystem;

// One cgroup, which on v1 is a directory in each controller's hierarchy.
class Cgroup {
public:
    virtual ~Cgroup() = default;
    virtual Status apply(const Limits& limits) = 0;
    // Open fds of every cgroup.procs: a new process joins by writing "0" to each (no allocation,
    // so it is safe between clone and exec).
    virtual const std::vector<int>& procs_fds() const = 0;
    // How many times the kernel's OOM killer killed a process in this cgroup so far.
    virtual Result<std::uint64_t> oom_kills() const = 0;
    virtual Result<std::vector<int>> pids() const = 0;
    // Removes the directories; fails with EBUSY while a process is inside.
    virtual Status remove() = 0;
    virtual const std::vector<fs::path>& dirs() const = 0;
};

// Makes a cgroup at `name` below each base directory of the layout.
Result<std::unique_ptr<Cgroup>> make_cgroup(const CgroupLayout& layout, const std::string& name);

// Ready-made cgroups, reused across containers. Lives as long as the runtime; removes what it made.
class CgroupPool {
public:
    // Pool root: "ctrbench-<pid>" under each base. Stale roots of dead ctrbench processes are removed.
    static Result<std::unique_ptr<CgroupPool>> open(const CgroupLayout& layout);
    ~CgroupPool();
    CgroupPool(const CgroupPool&) = delete;
    CgroupPool& operator=(const CgroupPool&) = delete;

    // An empty cgroup with exactly these limits.
    Result<Cgroup*> acquire(const Limits& limits);
    // Back to the pool; the caller guarantees no process of it is left (checked).
    Status release(Cgroup* cgroup);
    std::size_t size() const { return all_.size(); }
    const CgroupLayout& layout() const { return layout_; }

private:
    explicit CgroupPool(CgroupLayout layout) : layout_(std::move(layout)) {}
    struct Slot {
        std::unique_ptr<Cgroup> cgroup;
        Limits applied;
        bool in_use = false;
    };
    CgroupLayout layout_;
    std::string root_;
    std::mutex mu_;  // acquire and release may come from concurrent workers (throughput)
    std::vector<Slot> all_;
};

// Removes ctrbench-<pid> pool roots below `base` whose process is gone (bucketbench's sweep by prefix).
// Returns what it removed.
std::vector<std::string> sweep_stale_pools(const fs::path& base);

}  // namespace ctrbench::lean
