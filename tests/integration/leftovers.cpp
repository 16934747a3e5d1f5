#include "tests/integration/leftovers.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/process.h"

namespace ctrbench::hostcheck {
namespace fs = std::filesystem;

const std::vector<std::string> kContainerdSockets = {"/run/docker/containerd/containerd.sock",
                                                     "/run/containerd/containerd.sock"};

namespace {

// Directories whose entries are engine state: a container's entry there outlives it only by a leak.
// "*" stands for every subdirectory (one level).
const char* const kStateDirs[] = {
    "/run/docker/runtime-*/moby",
    "/run/docker/containerd",
    "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/*",
    "/run/containerd/io.containerd.runtime.v2.task/*",
    "/run/runc",
    "/run/crun",
    "/run/runsc",
    "/var/run/runsc",
    "/run/containers/storage/*-containers",
    "/var/lib/ctrbench/layers/*",
};

void entries_of(const std::string& pattern, std::set<std::string>& out) {
    std::error_code ec;
    auto star = pattern.find('*');
    if (star == std::string::npos) {
        for (const auto& e : fs::directory_iterator(pattern, ec)) out.insert("state " + e.path().string());
        return;
    }
    // One '*' inside a path component: expand it over that directory's entries.
    auto slash = pattern.rfind('/', star);
    auto end = pattern.find('/', star);
    std::string parent = pattern.substr(0, slash), head = pattern.substr(slash + 1, star - slash - 1);
    std::string tail = pattern.substr(star + 1, end == std::string::npos ? std::string::npos : end - star - 1);
    std::string rest = end == std::string::npos ? "" : pattern.substr(end);
    for (const auto& e : fs::directory_iterator(parent, ec)) {
        auto name = e.path().filename().string();
        if (e.is_directory(ec) && name.starts_with(head) && name.ends_with(tail) &&
            name.size() >= head.size() + tail.size())
            entries_of(e.path().string() + rest, out);
    }
}

// A cgroup directory an engine made for one container: its name holds the container's 64-hex id
// (docker/<id>, libpod-<id>, libpod-conmon-<id>, cri-containerd-<id>.scope). Engine-wide parents
// an engine makes once and keeps (docker/, libpod_parent/conmon) are not leaks.
bool names_a_container(const std::string& name) {
    int run = 0;
    for (char c : name) {
        run = std::isxdigit(static_cast<unsigned char>(c)) ? run + 1 : 0;
        if (run >= 64) return true;
    }
    return false;
}

// Container cgroups of the engines down to `depth` levels below each hierarchy (ctrbench's own
// are checked by name at any depth in `cgroups`).
void engine_cgroups(const fs::path& dir, int depth, std::set<std::string>& out) {
    if (depth == 0) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
        auto name = e.path().filename().string();
        if (name.starts_with("ctrbench-")) continue;
        if (names_a_container(name)) out.insert("cgroup " + e.path().string());
        engine_cgroups(e.path(), depth - 1, out);
    }
}

void containerd_containers(std::set<std::string>& out) {
    static const std::string ctr = find_program("ctr");
    if (ctr.empty()) return;
    for (const auto& sock : kContainerdSockets) {
        if (!fs::exists(sock)) continue;
        auto ns = run_process({ctr, "-a", sock, "namespaces", "ls", "-q"}, std::chrono::seconds(10));
        if (!ns || !ns->ok()) continue;
        std::istringstream names(ns->out);
        for (std::string n; names >> n;) {
            auto ids = run_process({ctr, "-a", sock, "-n", n, "containers", "ls", "-q"}, std::chrono::seconds(10));
            if (!ids || !ids->ok()) continue;
            std::istringstream in(ids->out);
            for (std::string id; in >> id;) out.insert("containerd " + sock + " " + n + " " + id);
        }
    }
}

void find_cgroups(const fs::path& dir, int depth, std::set<std::string>& out) {
    if (depth > 6) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
        // ctrbench's own, and LXC's per container (lxc.payload.<name>, lxc.monitor.<name>).
        const auto name = e.path().filename().string();
        if (name.starts_with("ctrbench-") || name.find(".ctrbench-") != std::string::npos)
            out.insert(e.path().string());
        find_cgroups(e.path(), depth + 1, out);
    }
}

}  // namespace

HostSnapshot snapshot() {
    HostSnapshot s;
    std::ifstream mi("/proc/self/mountinfo");
    for (std::string line; std::getline(mi, line);) {
        std::istringstream in(line);
        std::string id, parent, dev, root, point;
        in >> id >> parent >> dev >> root >> point;
        // Podman's storage driver bind-mounts its own home (<root>/storage/overlay, …) while a
        // podman command or its asynchronous `container cleanup` has the store open, and unmounts it
        // when the last one closes it: engine-wide state that comes and goes, not a container's.
        static const char* const kStoreHomes[] = {"/storage/overlay", "/storage/vfs", "/storage/btrfs"};
        bool store_home = false;
        for (const char* h : kStoreHomes) store_home = store_home || point.ends_with(h);
        if (!store_home) s.mounts.insert(point);
    }
    find_cgroups("/sys/fs/cgroup", 0, s.cgroups);
    std::error_code lec;
    for (const auto& e : fs::directory_iterator("/sys/class/net", lec)) s.links.insert(e.path().filename().string());
    const int me = ::getpid();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        auto name = e.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
        std::ifstream st(e.path() / "stat");
        std::string stat;
        std::getline(st, stat);
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        char state = '?';
        int ppid;
        if (rest >> state >> ppid && ppid == me) s.children.insert(std::stoi(name));
        // Engine helpers (a runsc sandbox, a conmon) carry the container's name on their command line.
        std::ifstream cl(e.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(cl)), {});
        if (cmdline.find("ctrbench-" + std::to_string(me) + "-") != std::string::npos ||
            cmdline.find("ctrbench-test-" + std::to_string(me)) != std::string::npos)
            s.tagged.insert(std::stoi(name));
        // A live shim (a zombie one is only waiting for init to reap it).
        std::string comm = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
        if (comm.starts_with("containerd-shim") && state != 'Z') s.engine.insert("shim " + name + " (" + comm + ")");
    }
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) engine_cgroups(e.path(), 3, s.engine);
    for (const char* d : kStateDirs) entries_of(d, s.engine);
    containerd_containers(s.engine);
    // the checkpoint workloads' images, on the host's tmpfs
    for (const auto& e : fs::directory_iterator("/dev/shm", ec))
        if (e.path().filename().string().starts_with("ctrbench-")) s.engine.insert("state " + e.path().string());
    return s;
}

std::string leftovers(const HostSnapshot& before, const HostSnapshot& after) {
    std::string out;
    for (const auto& m : after.mounts)
        if (!before.mounts.count(m)) out += "mount " + m + "; ";
    for (const auto& c : after.cgroups)
        if (!before.cgroups.count(c)) out += "cgroup " + c + "; ";
    for (const auto& l : after.links)
        if (!before.links.count(l)) out += "network link " + l + "; ";
    for (int p : after.children)
        if (!before.children.count(p)) out += "child process " + std::to_string(p) + "; ";
    for (int p : after.tagged)
        if (!before.tagged.count(p)) out += "process " + std::to_string(p) + " of a test container; ";
    for (const auto& e : after.engine)
        if (!before.engine.count(e)) out += e + "; ";
    return out;
}

std::string leftovers_after(const HostSnapshot& before, int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::string left;
    do {
        left = leftovers(before, snapshot());
        if (left.empty()) return left;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
    return left;
}

}  // namespace ctrbench::hostcheck
