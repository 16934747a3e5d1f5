// One measured run: the CSV record of DESIGN.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/run_status.h"
#include "workloads/probe_result.h"

namespace ctrbench {

struct Candidate {
    std::string driver, runtime, storage, image, cgroup, rootless = "rootful";
    // "lean-lean-overlay-minimal-v1-rootful": manager-runtime-storage-image-cgroup-rootless, the
    // name candidates.yml gives it
    std::string name() const;
};

struct RunRecord {
    std::string run_id, time, host;
    Candidate candidate;
    std::string workload, param;
    int iteration = 0;
    bool warmup = false;
    // Phase durations in ms; empty when the phase did not happen.
    std::optional<double> create_ms, start_ms, exec_ms, stop_ms, clean_ms, response_ms;
    std::optional<double> value;
    std::string unit;
    RunStatus status = RunStatus::Ok;
    std::string error;   // one line: what went wrong, or why the candidate was skipped
    std::string detail;  // not in the CSV: more figures for the JSON samples (ping's rtt min/avg/max)
    // Not in the CSV: the workload's named figures (Outcome::figures and its setup's), for the JSON.
    std::map<std::string, double> figures;
    // The run's probes (isolation): each its own CSV row after the run's, with the run's columns,
    // no phases, `probe` its name, value 1 = blocked / 0 = allowed, status skipped when not tried.
    std::vector<ProbeResult> probes;
    // Not in the CSV: the run's wall time as the harness saw it, and the part outside the timed
    // phases (spec, dataset check, bookkeeping, writing the row): the harness's own overhead.
    std::optional<double> wall_ms, overhead_ms;
};

// The one definition of ready (the console, the matrix's summaries and the JSON use it; report.py
// computes the same from the CSV): create + start + exec, plus the wait for the first response
// where the workload has one (http): the time until a container did its work or answers.
std::optional<double> ready_ms(const RunRecord& r);
// Every phase the run went through, the response wait included: never less than ready.
std::optional<double> total_ms(const RunRecord& r);

inline const std::vector<std::string>& csv_columns() {
    static const std::vector<std::string> cols = {
        "run_id",   "time",        "host",  "candidate", "driver", "runtime",   "storage",  "image",   "cgroup",
        "rootless", "workload",    "param", "iteration", "warmup", "create_ms", "start_ms", "exec_ms", "stop_ms",
        "clean_ms", "response_ms", "value", "unit",      "status", "error",     "probe"};
    return cols;
}

}  // namespace ctrbench
