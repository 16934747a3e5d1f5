#include "drivers/common/lxc_monitor.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "drivers/driver.h"  // owner_gone

namespace ctrbench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

pid_t parent_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');  // "pid (comm) state ppid ..."
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

// Whether a thread of `pid` is traced by `tracer`.
bool traced_by(pid_t pid, pid_t tracer) {
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "status");
        for (std::string line; std::getline(in, line);)
            if (line.rfind("TracerPid:", 0) == 0 && std::atoi(line.c_str() + 10) == tracer) return true;
    }
    return false;
}

// The roots of the cgroup hierarchies: /sys/fs/cgroup itself on a cgroup v2 host, the directories
// under it (one per v1 controller, and `unified`) on a v1 or hybrid one.
std::vector<fs::path> hierarchy_roots() {
    std::vector<fs::path> roots = {"/sys/fs/cgroup"};
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
        if (h.is_directory(ec) && !h.path().filename().string().starts_with("lxc.")) roots.push_back(h.path());
    return roots;
}

// rmdir of a cgroup and its child cgroups, deepest first (LXD's unprivileged instances have a
// `.lxc` child in the unified hierarchy). True when it is gone.
bool remove_cgroup_tree(const fs::path& dir) {
    std::error_code ec;
    for (const auto& sub : fs::directory_iterator(dir, ec))
        if (sub.is_directory(ec) && !sub.is_symlink(ec)) remove_cgroup_tree(sub.path());
    return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

bool remove_lxc_cgroups(const std::string& name, int attempts) {
    std::error_code ec;
    for (int attempt = 0;; ++attempt) {
        bool left = false;
        for (const auto& root : hierarchy_roots())
            for (const char* kind : {"lxc.payload.", "lxc.monitor."}) {
                const auto dir = root / (kind + name);
                if (fs::exists(dir, ec) && !remove_cgroup_tree(dir)) left = true;
            }
        if (!left) return true;
        if (attempt + 1 >= attempts) return false;
        std::this_thread::sleep_for(50ms);
    }
}

std::vector<std::string> sweep_lxc_cgroups() {
    std::vector<std::string> removed;
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& root : hierarchy_roots())
        for (const auto& d : fs::directory_iterator(root, ec)) {
            const auto n = d.path().filename().string();
            for (const char* kind : {"lxc.payload.", "lxc.monitor."})
                if (n.starts_with(kind) && owner_gone(n.substr(std::string(kind).size())))
                    names.insert(n.substr(std::string(kind).size()));
        }
    for (const auto& n : names)
        if (remove_lxc_cgroups(n, 1)) removed.push_back("lxc cgroups of " + n);
    return removed;
}

bool stop_wedged_monitor(pid_t init, const std::string& name) {
    const pid_t monitor = init > 0 ? parent_of(init) : -1;
    if (monitor <= 1 || !traced_by(init, monitor)) return false;
    ::kill(monitor, SIGKILL);
    ::kill(init, SIGKILL);
    for (int i = 0; i < 100 && fs::exists("/proc/" + std::to_string(init)); ++i) std::this_thread::sleep_for(20ms);
    remove_lxc_cgroups(name);
    return true;
}

int kill_wedged_launchers(const std::string& launcher_prefix) {
    int killed = 0;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const auto name = p.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(p.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (char& ch : cmdline)
            if (ch == '\0') ch = ' ';
        if (!cmdline.starts_with(launcher_prefix)) continue;
        const pid_t launcher = std::atoi(name.c_str());
        std::ifstream children(p.path() / "task" / name / "children");
        for (pid_t child = 0; children >> child;) {
            std::ifstream status("/proc/" + std::to_string(child) + "/status");
            std::string line;
            bool zombie = false;
            while (std::getline(status, line))
                if (line.rfind("State:", 0) == 0) zombie = line.find('Z') != std::string::npos;
            if (zombie && traced_by(child, launcher)) {
                ::kill(launcher, SIGKILL);
                ++killed;
                break;
            }
        }
    }
    return killed;
}

}  // namespace ctrbench
