#include "drivers/lean/cgroup.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "drivers/common/cgroupfs.h"
#include "drivers/lean/cgroup_dirs.h"

namespace ctrbench::lean {

Result<std::unique_ptr<Cgroup>> make_cgroup(const CgroupLayout& layout, const std::string& name) {
    std::vector<fs::path> dirs;
    for (const auto& base : layout.bases) {
        if (auto s = make_dir(base / name); !s) return fail(std::move(s.error()));
        dirs.push_back(base / name);
    }
    std::unique_ptr<CgroupDirs> cg =
        layout.version == CgroupVersion::V1 ? make_cgroup_v1(std::move(dirs)) : make_cgroup_v2(std::move(dirs[0]));
    if (auto s = cg->open(); !s) {
        (void)cg->remove();
        return fail(std::move(s.error()));
    }
    return std::unique_ptr<Cgroup>(std::move(cg));
}

std::vector<std::string> sweep_stale_pools(const fs::path& base) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(base, ec)) {
        auto name = entry.path().filename().string();
        if (!entry.is_directory() || !owner_gone(name)) continue;
        for (const auto& child : fs::directory_iterator(entry.path(), ec))
            if (child.is_directory()) ::rmdir(child.path().c_str());
        if (::rmdir(entry.path().c_str()) == 0) removed.push_back("cgroup " + entry.path().string());
    }
    return removed;
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
            return fail_msg("cgroup " + cgroup->dirs()[0].string() + " still holds " + std::to_string(pids->size()) +
                            " process(es) after stop");
        }
        s.in_use = false;
        return {};
    }
    return fail_msg("release of a cgroup the pool does not own");
}

}  // namespace ctrbench::lean
