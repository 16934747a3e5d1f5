#include "drivers/common/cgroupfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace ctrbench {

Status write_file(const std::filesystem::path& path, const std::string& value) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // cgroupfs ignores O_TRUNC
    if (fd < 0) return fail_sys("open " + path.string());
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return fail_sys("write '" + value + "' to " + path.string(), err);
    return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return fail_sys("open " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Result<std::uint64_t> read_keyed(const std::filesystem::path& path, const std::string& key) {
    auto text = read_file(path);
    if (!text) return fail(std::move(text.error()));
    std::istringstream in(*text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return 0;
}

Result<std::vector<int>> read_pids(const std::filesystem::path& procs) {
    auto text = read_file(procs);
    if (!text) return fail(std::move(text.error()));
    std::istringstream in(*text);
    std::vector<int> pids;
    for (int p; in >> p;) pids.push_back(p);
    return pids;
}

Status make_dir(const std::filesystem::path& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_sys("mkdir " + dir.string());
    return {};
}

Result<int> open_procs(const std::filesystem::path& dir) {
    auto path = dir / "cgroup.procs";
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail_sys("open " + path.string());
    return fd;
}

namespace {

struct CgroupMount {
    fs::path mountpoint;
    std::string root;  // the mount's root within the hierarchy (not "/" inside a cgroup namespace)
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) out.push_back(cur);
    return out;
}

// The process's cgroup path inside the hierarchy, made relative to where that hierarchy is mounted.
fs::path join_base(const CgroupMount& m, const std::string& self_path) {
    std::string rel = self_path;
    if (m.root != "/" && rel.starts_with(m.root)) rel = rel.substr(m.root.size());
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    return rel.empty() ? m.mountpoint : m.mountpoint / rel;
}

}  // namespace

std::string CgroupLayout::describe() const {
    return version == CgroupVersion::V2 ? "v2" : "v1 (cpu, memory, pids)";
}

Result<CgroupLayout> discover_cgroups(const fs::path& mountinfo, const fs::path& self_cgroup) {
    std::ifstream mi(mountinfo);
    if (!mi) return fail_sys("open " + mountinfo.string());
    std::map<std::string, CgroupMount> v1;  // controller -> mount
    std::optional<CgroupMount> v2;
    for (std::string line; std::getline(mi, line);) {
        // id parent maj:min root mountpoint opts [optional...] - fstype source superopts
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        auto left = split(line.substr(0, dash), ' ');
        auto right = split(line.substr(dash + 3), ' ');
        if (left.size() < 5 || right.size() < 3) continue;
        CgroupMount m{left[4], left[3]};
        if (right[0] == "cgroup2") {
            v2 = m;
        } else if (right[0] == "cgroup") {
            for (const auto& opt : split(right[2], ',')) v1[opt] = m;
        }
    }
    std::ifstream sc(self_cgroup);
    if (!sc) return fail_sys("open " + self_cgroup.string());
    std::map<std::string, std::string> self_v1;  // controller -> path
    std::string self_v2;
    for (std::string line; std::getline(sc, line);) {
        auto a = line.find(':');
        auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (line.substr(0, a) == "0" && ctrls.empty()) self_v2 = path;
        for (const auto& c : split(ctrls, ',')) self_v1[c] = path;
    }

    CgroupLayout layout;
    bool have_v1 = true;
    for (const char* c : kV1Controllers) have_v1 = have_v1 && v1.count(c) && self_v1.count(c);
    if (have_v1) {
        layout.version = CgroupVersion::V1;
        for (const char* c : kV1Controllers) layout.bases.push_back(join_base(v1[c], self_v1[c]));
        return layout;
    }
    if (v2) {
        layout.version = CgroupVersion::V2;
        layout.bases.push_back(join_base(*v2, self_v2.empty() ? "/" : self_v2));
        auto ctl = read_file(v2->mountpoint / "cgroup.controllers");
        if (!ctl) return fail(std::move(ctl.error()).wrap("cgroup v2"));
        for (const char* c : kV1Controllers)
            if (ctl->find(c) == std::string::npos)
                return fail_msg(std::string("cgroup v2 at ") + v2->mountpoint.string() + " lacks the " + c +
                                " controller, and no cgroup v1 hierarchy has it either");
        return layout;
    }
    return fail_msg("no usable cgroup hierarchy: need cpu, memory and pids in cgroup v1 or v2");
}

Result<fs::path> memory_cgroup_of(int pid) {
    auto where = discover_cgroups("/proc/self/mountinfo", "/proc/" + std::to_string(pid) + "/cgroup");
    if (!where) return fail(std::move(where.error()));
    return where->version == CgroupVersion::V1 ? where->bases[1] : where->bases[0];
}

std::uint64_t oom_kill_count(const fs::path& dir) {
    if (dir.empty()) return 0;
    for (const char* f : {"memory.oom_control", "memory.events"})
        if (auto v = read_keyed(dir / f, "oom_kill"); v && *v) return *v;
    return 0;
}

}  // namespace ctrbench
