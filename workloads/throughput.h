// throughput (seed 000's scalability table): `concurrency` workers each start, run /bin/echo in and
// remove containers back to back for kWindow; the figure is containers completed per second of the
// time until the last worker finished (a worker starts no container after the window closes).
#pragma once

#include "workloads/workload.h"

namespace ctrbench {

class ThroughputWorkload final : public Workload {
public:
    static constexpr std::chrono::milliseconds kWindow{3000};

    std::string name() const override { return "throughput"; }
    std::string description() const override {
        return "containers started, run and removed per second by N concurrent workers in a 3 s window";
    }
    std::string param_name() const override { return "concurrency"; }
    std::vector<std::string> param_values() const override { return {"1", "2", "4"}; }
    bool accepts(const std::string& v) const override { return positive_number(v, 256); }
    std::string param_hint() const override { return "a number of workers from 1 to 256, default 1, 2, 4"; }
    Status prepare(ContainerSpec& spec, const std::string& param) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool measures_itself() const override { return true; }
    Result<Outcome> measure(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    int default_runs() const override { return 3; }
    int default_warmup() const override { return 1; }
    std::map<std::string, long long> metadata() const override { return {{"throughput_window_ms", kWindow.count()}}; }
};

}  // namespace ctrbench
