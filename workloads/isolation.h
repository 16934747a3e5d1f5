// isolation (issue 13): what a hostile program inside the container can do to its host. The static
// agent makes each attempt (workloads/agent/probes.cpp) and says blocked, allowed or not tried; a
// run's outcome carries one ProbeResult per probe, which the harness writes as a CSV row each.
// A run is one container and two execs: every probe but the memory one, then the memory probe
// alone with a short deadline — a sandbox whose own kernel is killed whole at the host's limit
// (gVisor) can take its engine's exec with it (docker+runsc never returns): the scorecard records
// that as resources/memory-wedge, and the run goes on.
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
    // The first exec: every probe but the memory one.
    std::vector<std::string> command(const std::string& param) const override;
    // Its output: every probe of that exec reported, or the error names the first missing.
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    // create, start, both execs, stop, clean: the outcome has every probe of probes().
    bool measures_itself() const override { return true; }
    Result<Outcome> measure(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    int default_runs() const override { return 1; }  // the verdicts do not vary from run to run
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

// resources/memory and resources/memory-wedge from the memory probe's exec: the agent's verdict when
// it gave one; blocked when the sandbox was killed on the way; the wedge allowed when the engine's
// exec did not return within `deadline` after that, blocked when it did.
std::vector<ProbeResult> memory_verdicts(const Result<ExecResult>& exec, std::chrono::milliseconds deadline);

}  // namespace ctrbench
