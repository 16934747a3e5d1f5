// The summary printed on the terminal after a workload, hyperfine-style, and the same numbers as JSON.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/record.h"
#include "harness/stats.h"

namespace ctrbench {

// The phases of DESIGN.md plus their sum, in order.
inline const std::vector<std::string>& phase_names() {
    // "response": t_response = tr - te (http); "ready" and "total": ready_ms and total_ms (record.h).
    static const std::vector<std::string> p = {"create", "start", "exec",  "response",
                                               "stop",   "clean", "ready", "total"};
    return p;
}

// Samples of one phase (a name of phase_names()) over the measured (not warmup) runs that succeeded.
std::vector<double> phase_samples(const std::vector<RunRecord>& records, const std::string& phase);

// The workload's named figures (RunRecord::figures) over the measured runs that succeeded, by name.
std::map<std::string, std::vector<double>> figure_samples(const std::vector<RunRecord>& records);

// The harness's own time per run (outside the timed phases), over every run that has it.
struct Overhead {
    int runs = 0;
    double mean_ms = 0, percent = 0;  // percent of the runs' wall time
};
Overhead overhead(const std::vector<RunRecord>& records);

// One line per unit for a long matrix log: the time to a container that did its work (ready, for
// a workload that answers), all phases, the workload's figure with its unit, overhead, failures.
std::string unit_summary_line(const std::vector<RunRecord>& records);

// Prints a dataset's generation as it goes: on a terminal one line redrawn with the percentage,
// otherwise a line at the start, at each quarter and at the end with the time it took.
std::function<void(const std::string& what, double fraction)> dataset_progress_printer(bool tty);

// Prints "label: run k/n" as runs go: on a terminal one line redrawn every run, otherwise about
// ten lines at a steady step (every ceil(n/10) runs, and the last), each with the rate so far.
std::function<void(int k, int n, bool warmup)> run_progress_printer(bool tty, std::string label);

std::string format_summary(const std::vector<RunRecord>& records);
// A workload's figures by parameter, medians in ms, one row per figure ("container" = create + start),
// one column per parameter, with the published figure beside each where `reference` has it.
std::string figure_table(const std::vector<std::pair<std::string, std::vector<RunRecord>>>& by_param,
                         const std::string& reference_source,
                         const std::map<std::string, std::map<std::string, double>>& reference);
nlohmann::json summary_json(const std::vector<RunRecord>& records);

}  // namespace ctrbench
