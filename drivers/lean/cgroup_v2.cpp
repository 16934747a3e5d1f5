// cgroup v2: one unified hierarchy.
#include <cmath>

#include "drivers/common/cgroupfs.h"
#include "drivers/lean/cgroup_dirs.h"

namespace ctrbench::lean {
namespace {

constexpr std::int64_t kCpuPeriodUs = 100'000;  // the kernel's default cpu.max period

class CgroupV2 final : public CgroupDirs {
public:
    using CgroupDirs::CgroupDirs;

    Status apply(const Limits& l) override {
        const auto& d = dirs_[0];
        std::string cpu = l.cpus > 0 ? std::to_string(std::llround(l.cpus * kCpuPeriodUs)) : "max";
        if (auto s = write_file(d / "cpu.max", cpu + " " + std::to_string(kCpuPeriodUs)); !s) return s;
        std::string mem = l.memory_bytes > 0 ? std::to_string(l.memory_bytes) : "max";
        if (auto s = write_file(d / "memory.max", mem); !s) return s;
        if (fs::exists(d / "memory.swap.max"))
            if (auto s = write_file(d / "memory.swap.max", "0"); !s) return s;
        return write_file(d / "pids.max", l.pids > 0 ? std::to_string(l.pids) : "max");
    }

    Result<std::uint64_t> oom_kills() const override { return read_keyed(dirs_[0] / "memory.events", "oom_kill"); }
};

}  // namespace

std::unique_ptr<CgroupDirs> make_cgroup_v2(fs::path dir) {
    return std::make_unique<CgroupV2>(std::vector<fs::path>{std::move(dir)});
}

Status enable_v2_controllers(const fs::path& parent) {
    auto s = write_file(parent / "cgroup.subtree_control", "+cpu +memory +pids");
    if (!s && s.error().err() == EBUSY)
        return fail(std::move(s.error()).wrap("cgroup v2 will not delegate controllers from " + parent.string() +
                                              ", which holds processes: run ctrbench from a leaf it may split"));
    return s;
}

}  // namespace ctrbench::lean
