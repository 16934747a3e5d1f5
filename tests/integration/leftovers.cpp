#include "tests/integration/leftovers.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ctrbench::hostcheck {
namespace fs = std::filesystem;

namespace {

void find_cgroups(const fs::path& dir, int depth, std::set<std::string>& out) {
    if (depth > 6) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
        if (e.path().filename().string().starts_with("ctrbench-")) out.insert(e.path().string());
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
        s.mounts.insert(point);
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
        char state;
        int ppid;
        if (rest >> state >> ppid && ppid == me) s.children.insert(std::stoi(name));
        // Engine helpers (a runsc sandbox, a conmon) carry the container's name on their command line.
        std::ifstream cl(e.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(cl)), {});
        if (cmdline.find("ctrbench-" + std::to_string(me) + "-") != std::string::npos ||
            cmdline.find("ctrbench-test-" + std::to_string(me)) != std::string::npos)
            s.tagged.insert(std::stoi(name));
    }
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
