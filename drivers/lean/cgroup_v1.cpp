// cgroup v1: one hierarchy per controller (cpu, memory, pids), the mode of this project's hosts.
#include <cmath>

#include "drivers/common/cgroupfs.h"
#include "drivers/lean/cgroup_dirs.h"

namespace ctrbench::lean {
namespace {

constexpr std::int64_t kCfsPeriodUs = 100'000;  // the kernel's default CFS period

class CgroupV1 final : public CgroupDirs {
public:
    using CgroupDirs::CgroupDirs;

    // dirs_ follow kV1Controllers: cpu, memory, pids.
    Status apply(const Limits& l) override {
        const auto& cpu = dirs_[0];
        const auto& mem = dirs_[1];
        const auto& pids = dirs_[2];
        std::string quota = l.cpus > 0 ? std::to_string(std::llround(l.cpus * kCfsPeriodUs)) : "-1";
        if (auto s = write_file(cpu / "cpu.cfs_period_us", std::to_string(kCfsPeriodUs)); !s) return s;
        if (auto s = write_file(cpu / "cpu.cfs_quota_us", quota); !s) return s;
        std::string bytes = l.memory_bytes > 0 ? std::to_string(l.memory_bytes) : "-1";
        // Without swap accounting memsw is absent; with it, forbid swap like docker --memory-swap=--memory.
        // The kernel keeps memory <= memsw at every write: a pooled cgroup whose limit grows (a workload
        // that needs more than the last one's) is refused the memory limit first, and takes memsw first.
        const fs::path memsw = mem / "memory.memsw.limit_in_bytes";
        const bool has_memsw = fs::exists(memsw);
        if (auto s = write_file(mem / "memory.limit_in_bytes", bytes); !s) {
            if (!has_memsw) return s;
            if (auto t = write_file(memsw, bytes); !t) return t;
            if (auto u = write_file(mem / "memory.limit_in_bytes", bytes); !u) return u;
        } else if (has_memsw) {
            if (auto t = write_file(memsw, bytes); !t) return t;
        }
        std::string max = l.pids > 0 ? std::to_string(l.pids) : "max";
        return write_file(pids / "pids.max", max);
    }

    Result<std::uint64_t> oom_kills() const override { return read_keyed(dirs_[1] / "memory.oom_control", "oom_kill"); }
};

}  // namespace

std::unique_ptr<CgroupDirs> make_cgroup_v1(std::vector<fs::path> dirs) {
    return std::make_unique<CgroupV1>(std::move(dirs));
}

}  // namespace ctrbench::lean
