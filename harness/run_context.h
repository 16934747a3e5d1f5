// What every harness run has, whether one driver and workload (`harness --driver`) or the candidate
// matrix (`--matrix`, `--resume`): its id, its results files (CSV rows, JSON metadata beside them),
// the metadata every run records, the units' summaries, the terminal, interrupts, and the exit
// policy. Both paths go through it, so they cannot drift.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/record.h"
#include "harness/result_sink.h"

namespace ctrbench {

class RunContext {
public:
    // A new run writing `csv` (empty: results/<file_prefix><run id>.csv) with the metadata every run
    // has (version, id, start, command line, host) and no results yet. Installs the Ctrl-C handlers.
    static Result<RunContext> begin(const std::filesystem::path& csv, const std::string& file_prefix,
                                    const std::vector<std::string>& argv);
    // Continues the run whose CSV this is, appending; `meta` is its metadata as written before.
    static Result<RunContext> resume(const std::filesystem::path& csv, nlohmann::json meta,
                                     const std::vector<std::string>& argv);

    const std::string& run_id() const { return run_id_; }
    nlohmann::json& meta() { return meta_; }
    CsvSink& sink() { return sink_; }
    const std::filesystem::path& csv_path() const { return sink_.path(); }
    const std::filesystem::path& meta_path() const { return meta_path_; }
    bool tty() const { return tty_; }
    Status save();  // writes the metadata (atomically)

    // A row for a whole candidate (workload "*"): skipped with the reason, or an error that kept it
    // from running. An error counts as a failed run.
    Status candidate_row(const Candidate& c, RunStatus status, const std::string& why);
    // The records of one unit just run: failures and the harness's overhead are counted.
    void count(const std::vector<RunRecord>& records);
    // The unit's summary over `all` its records (a resumed unit's earlier ones too) into the
    // metadata's results, replacing the one written before an interruption; then saves.
    Status summarize_unit(const std::string& candidate, const std::string& workload, const std::string& param,
                          const std::vector<RunRecord>& all);

    int failed_runs() const { return failed_runs_; }
    struct OverheadTotal {
        int runs = 0;
        double ms = 0, wall_ms = 0;
    };
    const OverheadTotal& overhead() const { return overhead_; }

    // The end: "finished" and "interrupted" into the metadata, the results line, and the exit code:
    // 130 after Ctrl-C (with `resume_hint` when there is one), 1 when a run failed, else 0.
    int finish(const std::string& resume_hint = "");

private:
    RunContext(std::string run_id, CsvSink sink, nlohmann::json meta);
    std::string run_id_;
    CsvSink sink_;
    std::filesystem::path meta_path_;
    nlohmann::json meta_;
    bool tty_ = false;
    int failed_runs_ = 0;
    OverheadTotal overhead_;
};

// "harness: <msg>" on stderr; returns `code`.
int report_error(const std::string& msg, int code = 1);
// The command line as typed.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace ctrbench
