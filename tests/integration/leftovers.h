// What a test may leave on the host: mounts, cgroups, child processes, network links, and the state
// engines keep where their own `ps` does not look (containerd's namespaces, shims, runtime state
// directories). A snapshot before and after; the difference must be empty.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace ctrbench::hostcheck {

struct HostSnapshot {
    std::set<std::string> mounts;   // mount points of the host's mount namespace
    std::set<std::string> cgroups;  // directories named ctrbench-* (or LXC's lxc.*.ctrbench-*) below /sys/fs/cgroup
    std::set<int> children;         // processes whose parent is this test process
    std::set<int> tagged;           // processes whose command line names a container of this process
    std::set<std::string> links;    // network interfaces of the host (veth ends of container links)
    // Where engine leaks really happen (a failed docker start with runsc leaves all of these while
    // `docker ps -a` is empty): "containerd <socket> <namespace> <container id>", "shim <pid>" for a
    // live containerd-shim, "cgroup <dir>" for every cgroup directory of one container up to three
    // levels down in each hierarchy (docker/<id>, libpod-<id>), "state <path>" for every entry of the
    // runtimes' state directories (/run/docker/runtime-*/moby, /run/runc, /run/crun, containerd's task dirs, …).
    std::set<std::string> engine;
};

// The containerd sockets the engine check asks (dockerd's own containerd, a system one).
extern const std::vector<std::string> kContainerdSockets;

HostSnapshot snapshot();
// "" when nothing was left behind, else a description of what was.
std::string leftovers(const HostSnapshot& before, const HostSnapshot& after);
// Waits up to `ms` for leftovers to go (the kernel reaps asynchronously), then describes them.
std::string leftovers_after(const HostSnapshot& before, int ms = 2000);

}  // namespace ctrbench::hostcheck
