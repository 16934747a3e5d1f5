// isolation (issue 13): what a hostile program inside the container can do to its host. The static
// agent makes each attempt (workloads/agent/probes.cpp) and says blocked, allowed or not tried; a
// run's outcome carries one ProbeResult per probe, which the harness writes as a CSV row each.
// Before the runs (untimed) the workload sets out on the host what the probes look for: a marker
// file with a random token, a TCP listener on 127.0.0.1 and an abstract unix socket (the project's
// own addresses), and it names the harness's pid and a host disk; all are gone when it is destroyed.
#pragma once

#include <memory>

#include "workloads/workload.h"

namespace ctrbench {

class IsolationWorkload final : public Workload {
public:
    IsolationWorkload();
    ~IsolationWorkload() override;
    std::string name() const override { return "isolation"; }
    std::string description() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root,
                                        const Progress& p) const override;
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool provokes_oom() const override { return true; }  // resources/memory
    int default_runs() const override { return 1; }      // the verdicts do not vary from run to run
    int default_warmup() const override { return 0; }

    // Every probe the agent makes, "family/name", in its order. (Which "allowed" verdicts are by
    // design, and why, is the report's to say: analysis/report.py, BY_DESIGN.)
    static const std::vector<std::string>& probes();

    struct HostSide;

private:
    mutable std::unique_ptr<HostSide> host_;
};

// The agent's output back as probes: one "name<TAB>verdict<TAB>detail" line each.
Result<std::vector<ProbeResult>> parse_probes(const std::string& out);

}  // namespace ctrbench
