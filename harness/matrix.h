// The candidate matrix: `harness --matrix`. A plan (which candidates run, which are skipped and why,
// which workloads and parameters, in what order, how long it should take) and its execution:
// reconfiguring engines through the candidates' playbooks as rarely as possible, a progress line,
// rows appended and flushed per run, and resuming an interrupted run without redoing finished work.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "harness/candidates.h"
#include "harness/cli.h"
#include "workloads/workload.h"

namespace ctrbench {

struct MatrixUnit {
    std::string workload, param;
    int runs = 0, warmup = 0;
};

struct MatrixEntry {
    const CandidateDef* def = nullptr;
    std::string skip;         // why it cannot run here; "" = runnable
    std::string reconfigure;  // "docker: storage overlay2 -> btrfs" when its playbook must change an engine
    std::vector<MatrixUnit> units;
    std::string quick_note;  // why a quick plan runs fewer of its workloads; "" = all of them
    double estimate_s = 0;
};

struct MatrixSettings {  // what a plan is made from: the command line, or a resumed run's metadata
    std::string selection = "all";
    std::vector<std::string> tests;   // empty = every workload
    std::vector<std::string> params;  // values for the one test
    bool quick = false;
    int runs = 0, warmup = -1;  // 0 / -1: each workload's default
    std::string tools = "agent";
    double timeout_s = 60;
    nlohmann::json to_json() const;
    static MatrixSettings from_json(const nlohmann::json& j);
};

struct MatrixPlan {
    std::vector<MatrixEntry> runnable;  // in the order they run
    std::vector<MatrixEntry> skipped;   // in file order
    double estimate_s = 0;
    std::size_t unit_count() const;
    std::size_t run_count() const;
    // Without playbooks (--no-setup), the candidates that need an engine reconfigured are skipped.
    void skip_reconfiguring(const std::string& why);
};

// Pure: evaluates, orders (engine settings grouped; the current one first) and estimates.
// `engine_settings` maps a candidate to the engine-wide setting it needs ("docker:btrfs"; absent:
// none; engine_setup.h's candidate_settings), `current` an engine ("docker") to the one it has now.
// `caps` maps a candidate's "driver/runtime" to its driver's capabilities (absent: unknown).
// A workload with an image of its own (the service workloads) runs on a stack's minimal candidate only,
// and in a quick plan only where the driver can restore a checkpoint (where cold and restored compare).
MatrixPlan make_plan(const CandidateFile& file, const std::vector<const CandidateDef*>& selected, const HostFacts& host,
                     const std::map<std::string, std::string>& engine_settings,
                     const std::map<std::string, std::string>& current, const WorkloadRegistry& workloads,
                     const MatrixSettings& settings, const std::map<std::string, Capabilities>& caps = {});
// The plan's expected time for `runs` runs of workload `w` on candidate `c`.
double per_run_estimate(const CandidateFile& f, const CandidateDef& c, const Workload& w);

// The settings of a new run, from the command line.
MatrixSettings settings_from_options(const Options& o);

// What a results file already holds for one candidate, workload and parameter.
struct UnitProgress {
    int warmup = 0, runs = 0;  // runs recorded (interrupted ones are not: they are redone)
    int trailing_errors = 0;   // consecutive failures at the end (3 = the unit was abandoned)
    bool skipped = false;      // a skipped row: nothing more to do
    // Nothing left to run for `u`: skipped, abandoned after that many failures, or complete.
    bool finished(const MatrixUnit& u, int max_consecutive_errors) const;
};
// Key: candidate + "|" + workload + "|" + param; a skipped candidate's row has workload "*".
std::map<std::string, UnitProgress> progress_from_rows(const std::vector<std::map<std::string, std::string>>& rows);
std::string unit_key(const std::string& candidate, const std::string& workload, const std::string& param);

// The skipped candidates grouped by reason, most common first: "  12 skipped: why (a, b, …)" a line.
std::string skipped_by_reason(const std::vector<MatrixEntry>& skipped);
// "1h02m", "4m05s", "12s"
std::string format_duration(double seconds);
// The --dry-run listing: each selected candidate runnable (units, estimate) or skipped (why), the
// order, the reasons, the plan's totals.
std::string format_plan(const MatrixPlan& plan, const std::vector<const CandidateDef*>& selected,
                        const CandidateFile& file, const MatrixSettings& settings);

// Runs the whole `harness --matrix` / `--resume` command (matrix_run.cpp); returns the exit code.
int run_matrix(const Options& o, const DriverRegistry& drivers, WorkloadRegistry& workloads,
               const std::vector<std::string>& argv);

}  // namespace ctrbench
