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

#include "drivers/driver.h"

namespace ctrbench::lean {

namespace fs = std::filesystem;

enum class CgroupVersion { V1, V2 };

// Where this process's cgroups are: for v1 one directory per controller we use (cpu, memory, pids),
// for v2 the single unified directory. Each directory is this process's own cgroup, so ctrbench
// nests under whatever the host put it in instead of escaping to the root.
struct CgroupLayout {
    CgroupVersion version = CgroupVersion::V1;
    std::vector<fs::path> bases;  // v1: one per controller, in kV1Controllers order; v2: one
    std::string describe() const; // "v1 (cpu, memory, pids)" or "v2"
};

// The controllers the v1 implementation needs, in the order of CgroupLayout::bases.
inline constexpr const char* kV1Controllers[] = {"cpu", "memory", "pids"};

// Reads mountinfo and /proc/self/cgroup. The unified hierarchy wins when it is mounted at the
// cgroup root (pure v2); on a hybrid host (v2 beside v1) the v1 controllers are used.
Result<CgroupLayout> discover_cgroups(const fs::path& mountinfo = "/proc/self/mountinfo",
                                      const fs::path& self_cgroup = "/proc/self/cgroup");

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

// The memory cgroup directory of a running process (another engine's container init), and the OOM
// kills counted there so far (0 when unknown): how every driver reports ExecResult::oom_killed.
Result<fs::path> memory_cgroup_of(int pid);
std::uint64_t oom_kill_count(const fs::path& memory_cgroup);

// Removes ctrbench-<pid> pool roots below `base` whose process is gone (bucketbench's sweep by prefix).
void sweep_stale_pools(const fs::path& base);

}  // namespace ctrbench::lean
