// What a test may leave on the host: mounts, ctrbench cgroups, child processes, network links. A snapshot before
// and after; the difference must be empty.
#pragma once

#include <set>
#include <string>

namespace ctrbench::hostcheck {

struct HostSnapshot {
    std::set<std::string> mounts;   // mount points of the host's mount namespace
    std::set<std::string> cgroups;  // directories named ctrbench-* below /sys/fs/cgroup
    std::set<int> children;         // processes whose parent is this test process
    std::set<int> tagged;           // processes whose command line names a container of this process
    std::set<std::string> links;    // network interfaces of the host (veth ends of container links)
};

HostSnapshot snapshot();
// "" when nothing was left behind, else a description of what was.
std::string leftovers(const HostSnapshot& before, const HostSnapshot& after);
// Waits up to `ms` for leftovers to go (the kernel reaps asynchronously), then describes them.
std::string leftovers_after(const HostSnapshot& before, int ms = 2000);

}  // namespace ctrbench::hostcheck
