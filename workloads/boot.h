#pragma once

#include "workloads/workload.h"

namespace ctrbench {

class BootWorkload final : public Workload {
public:
    std::string name() const override { return "boot"; }
    std::string description() const override { return "/bin/echo Hello World: the time to a ready container"; }
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    // The headline figure: three runs give the quick matrix a median (and the report n >= 3).
    int quick_runs() const override { return 3; }
};

}  // namespace ctrbench
