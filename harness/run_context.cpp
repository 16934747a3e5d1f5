#include "harness/run_context.h"

#include <unistd.h>

#include <cstdio>

#include "harness/console_report.h"
#include "harness/host_metadata.h"
#include "harness/interrupt.h"

namespace ctrbench {
namespace fs = std::filesystem;

int report_error(const std::string& msg, int code) {
    std::fprintf(stderr, "harness: %s\n", msg.c_str());
    return code;
}

std::string command_line(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
    return out;
}

RunContext::RunContext(std::string run_id, CsvSink sink, nlohmann::json meta)
    : run_id_(std::move(run_id)),
      sink_(std::move(sink)),
      meta_path_(metadata_path(sink_.path())),
      meta_(std::move(meta)),
      tty_(::isatty(STDERR_FILENO)) {
    install_interrupt_handlers();
}

Result<RunContext> RunContext::begin(const fs::path& csv, const std::string& file_prefix,
                                     const std::vector<std::string>& argv) {
    std::string run_id = run_id_now();
    auto sink = CsvSink::open(csv.empty() ? fs::path("results") / (file_prefix + run_id + ".csv") : csv);
    if (!sink) return fail(std::move(sink.error()));
    nlohmann::json meta;
    meta["ctrbench_version"] = CTRBENCH_VERSION;
    meta["run_id"] = run_id;
    meta["started"] = utc_now();
    meta["command_line"] = command_line(argv);
    meta["host"] = host_metadata();
    meta["results"] = nlohmann::json::array();
    return RunContext(std::move(run_id), std::move(*sink), std::move(meta));
}

Result<RunContext> RunContext::resume(const fs::path& csv, nlohmann::json meta, const std::vector<std::string>& argv) {
    auto sink = CsvSink::open(csv);
    if (!sink) return fail(std::move(sink.error()));
    std::string run_id = meta.value("run_id", run_id_now());
    meta["resumed"].push_back({{"at", utc_now()}, {"command_line", command_line(argv)}});
    return RunContext(std::move(run_id), std::move(*sink), std::move(meta));
}

Status RunContext::save() {
    return write_json(meta_path_, meta_);
}

Status RunContext::candidate_row(const Candidate& c, RunStatus status, const std::string& why) {
    RunRecord rec;
    rec.run_id = run_id_;
    rec.time = utc_now();
    rec.host = host_name();
    rec.candidate = c;
    rec.workload = "*";
    rec.status = status;
    rec.error = why;
    failed_runs_ += is_failure(status);
    return sink_.write(rec);
}

void RunContext::count(const std::vector<RunRecord>& records) {
    for (const auto& r : records) {
        failed_runs_ += is_failure(r.status);
        if (r.wall_ms && r.overhead_ms) {
            ++overhead_.runs;
            overhead_.ms += *r.overhead_ms;
            overhead_.wall_ms += *r.wall_ms;
        }
    }
}

Status RunContext::summarize_unit(const std::string& candidate, const std::string& workload, const std::string& param,
                                  const std::vector<RunRecord>& all) {
    auto& results = meta_["results"];
    for (auto it = results.begin(); it != results.end();)
        if (it->value("candidate", "") == candidate && it->value("workload", "") == workload &&
            it->value("param", "") == param)
            it = results.erase(it);
        else
            ++it;
    results.push_back(
        {{"candidate", candidate}, {"workload", workload}, {"param", param}, {"summary", summary_json(all)}});
    return save();
}

int RunContext::finish(const std::string& resume_hint) {
    meta_["finished"] = utc_now();
    meta_["interrupted"] = interrupted();
    if (auto s = save(); !s) return report_error(s.error().message());
    std::printf("results: %s (metadata and samples: %s)\n", sink_.path().c_str(), meta_path_.c_str());
    std::fflush(stdout);
    if (interrupted())
        return report_error("interrupted: the runs measured so far are saved" +
                                (resume_hint.empty() ? "" : "; continue with: " + resume_hint),
                            130);
    if (failed_runs_)
        return report_error(std::to_string(failed_runs_) + " run(s) failed; see the error column of " +
                            sink_.path().string());
    return 0;
}

}  // namespace ctrbench
