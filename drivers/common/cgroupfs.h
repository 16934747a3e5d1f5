// Reading the host's cgroups, for every driver: where this process's cgroups are (v1 or v2), the
// memory cgroup of another engine's container and the OOM kills counted there, and the file
// helpers cgroupfs needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace ctrbench {

namespace fs = std::filesystem;

Status write_file(const std::filesystem::path& path, const std::string& value);
Result<std::string> read_file(const std::filesystem::path& path);
// Reads "key N" from a flat-keyed file such as memory.events or memory.oom_control; 0 if absent.
Result<std::uint64_t> read_keyed(const std::filesystem::path& path, const std::string& key);
Result<std::vector<int>> read_pids(const std::filesystem::path& procs);
Status make_dir(const std::filesystem::path& dir);
Result<int> open_procs(const std::filesystem::path& dir);

enum class CgroupVersion { V1, V2 };

// Where this process's cgroups are: for v1 one directory per controller we use (cpu, memory, pids),
// for v2 the single unified directory. Each directory is this process's own cgroup, so ctrbench
// nests under whatever the host put it in instead of escaping to the root.
struct CgroupLayout {
    CgroupVersion version = CgroupVersion::V1;
    std::vector<fs::path> bases;   // v1: one per controller, in kV1Controllers order; v2: one
    std::string describe() const;  // "v1 (cpu, memory, pids)" or "v2"
};

// The controllers the v1 implementation needs, in the order of CgroupLayout::bases.
inline constexpr const char* kV1Controllers[] = {"cpu", "memory", "pids"};

// Reads mountinfo and /proc/self/cgroup. The unified hierarchy wins when it is mounted at the
// cgroup root (pure v2); on a hybrid host (v2 beside v1) the v1 controllers are used.
Result<CgroupLayout> discover_cgroups(const fs::path& mountinfo = "/proc/self/mountinfo",
                                      const fs::path& self_cgroup = "/proc/self/cgroup");

// The memory cgroup directory of a running process (another engine's container init), and the OOM
// kills counted there so far (0 when unknown): how every driver reports ExecResult::oom_killed.
Result<fs::path> memory_cgroup_of(int pid);
std::uint64_t oom_kill_count(const fs::path& memory_cgroup);

}  // namespace ctrbench
