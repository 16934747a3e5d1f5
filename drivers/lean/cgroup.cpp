#include "drivers/lean/cgroup.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "drivers/lean/cgroup_common.h"

namespace ctrbench::lean {
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

Result<std::unique_ptr<Cgroup>> make_cgroup(const CgroupLayout& layout, const std::string& name) {
    std::vector<fs::path> dirs;
    for (const auto& base : layout.bases) {
        if (auto s = make_dir(base / name); !s) return fail(std::move(s.error()));
        dirs.push_back(base / name);
    }
    std::unique_ptr<CgroupDirs> cg = layout.version == CgroupVersion::V1 ? make_cgroup_v1(std::move(dirs))
                                                                          : make_cgroup_v2(std::move(dirs[0]));
    if (auto s = cg->open(); !s) {
        (void)cg->remove();
        return fail(std::move(s.error()));
    }
    return std::unique_ptr<Cgroup>(std::move(cg));
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

void sweep_stale_pools(const fs::path& base) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(base, ec)) {
        auto name = entry.path().filename().string();
        if (!entry.is_directory() || !name.starts_with("ctrbench-")) continue;
        int pid = std::atoi(name.c_str() + 9);
        if (pid <= 0 || (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // owner still alive
        for (const auto& child : fs::directory_iterator(entry.path(), ec))
            if (child.is_directory()) ::rmdir(child.path().c_str());
        ::rmdir(entry.path().c_str());
    }
}

Result<std::unique_ptr<CgroupPool>> CgroupPool::open(const CgroupLayout& layout) {
    std::unique_ptr<CgroupPool> pool(new CgroupPool(layout));
    pool->root_ = "ctrbench-" + std::to_string(::getpid());
    for (const auto& base : layout.bases) {
        sweep_stale_pools(base);
        if (layout.version == CgroupVersion::V2)
            if (auto s = enable_v2_controllers(base); !s) return fail(std::move(s.error()));
        if (auto s = make_dir(base / pool->root_); !s) return fail(std::move(s.error()));
        if (layout.version == CgroupVersion::V2)
            if (auto s = enable_v2_controllers(base / pool->root_); !s) return fail(std::move(s.error()));
    }
    return pool;
}

CgroupPool::~CgroupPool() {
    for (auto& slot : all_) (void)slot.cgroup->remove();
    for (const auto& base : layout_.bases) ::rmdir((base / root_).c_str());
}

Result<Cgroup*> CgroupPool::acquire(const Limits& limits) {
    std::lock_guard lock(mu_);
    Slot* slot = nullptr;
    for (auto& s : all_)
        if (!s.in_use && (!slot || s.applied == limits)) slot = &s;  // prefer one already set this way
    if (!slot) {
        auto cg = make_cgroup(layout_, root_ + "/c" + std::to_string(all_.size()));
        if (!cg) return fail(std::move(cg.error()));
        if (auto s = (*cg)->apply(limits); !s) {
            (void)(*cg)->remove();
            return fail(std::move(s.error()).wrap("set cgroup limits"));
        }
        all_.push_back(Slot{std::move(*cg), limits, false});
        slot = &all_.back();
    } else if (!(slot->applied == limits)) {
        if (auto s = slot->cgroup->apply(limits); !s) return fail(std::move(s.error()).wrap("set cgroup limits"));
        slot->applied = limits;
    }
    slot->in_use = true;
    return slot->cgroup.get();
}

Status CgroupPool::release(Cgroup* cgroup) {
    std::lock_guard lock(mu_);
    for (auto& s : all_) {
        if (s.cgroup.get() != cgroup) continue;
        auto pids = cgroup->pids();
        if (!pids) return fail(std::move(pids.error()));
        if (!pids->empty()) {
            // Not reusable: a process escaped the kill. Keep it out of the pool.
            s.in_use = true;
            return fail_msg("cgroup " + cgroup->dirs()[0].string() + " still holds " +
                            std::to_string(pids->size()) + " process(es) after stop");
        }
        s.in_use = false;
        return {};
    }
    return fail_msg("release of a cgroup the pool does not own");
}

}  // namespace ctrbench::lean
