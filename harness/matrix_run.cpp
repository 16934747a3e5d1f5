// The matrix's execution (`harness --matrix`, `--resume`): reads a resumed run back, makes the plan
// (matrix.cpp), and runs it candidate by candidate through the RunContext both harness paths share,
// changing and restoring engine settings through engine_setup.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include "harness/console_report.h"
#include "harness/engine_setup.h"
#include "harness/host_metadata.h"
#include "harness/host_probe.h"
#include "harness/interrupt.h"
#include "harness/matrix.h"
#include "harness/run_context.h"
#include "harness/runner.h"

namespace ctrbench {
namespace fs = std::filesystem;
namespace {
using Clock = std::chrono::steady_clock;

// What a resumed run's files hold: its metadata and settings, what is done, and its rows per unit
// (for the summaries, which cover the rows before an interruption too).
struct Resumed {
    nlohmann::json meta;
    MatrixSettings settings;
    std::map<std::string, UnitProgress> done;
    std::map<std::string, std::vector<RunRecord>> earlier;
};

Result<Resumed> read_resumed(const fs::path& csv) {
    Resumed r;
    auto mp = metadata_path(csv);
    std::ifstream in(mp);
    if (!in) return fail_msg("cannot resume " + csv.string() + ": its metadata " + mp.string() + " is missing");
    try {
        r.meta = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        return fail_msg("cannot resume " + csv.string() + ": " + mp.string() + " is not valid JSON (" + e.what() + ")");
    }
    if (!r.meta.contains("matrix"))
        return fail_msg("cannot resume " + csv.string() + ": it is not a matrix run (no \"matrix\" in " + mp.string() +
                        ")");
    r.settings = MatrixSettings::from_json(r.meta["matrix"]["settings"]);
    auto rows = read_csv(csv);
    if (!rows) return fail(std::move(rows.error()).wrap("cannot resume"));
    r.done = progress_from_rows(*rows);
    for (const auto& row : *rows) {
        auto rec = record_from_row(row);
        auto& earlier = r.earlier[unit_key(row.at("candidate"), rec.workload, rec.param)];
        if (auto probe = probe_from_row(row)) {  // belongs to the run row before it
            if (!earlier.empty() && earlier.back().iteration == rec.iteration) earlier.back().probes.push_back(*probe);
        } else if (rec.status != RunStatus::Interrupted) {  // redone on resume
            earlier.push_back(std::move(rec));
        }
    }
    return r;
}

// The plan's candidates in the metadata: runnable with their estimate, skipped with the reason.
void plan_metadata(nlohmann::json& meta, const MatrixPlan& plan) {
    nlohmann::json cands = nlohmann::json::array();
    for (const auto& e : plan.runnable)
        cands.push_back({{"name", e.def->name},
                         {"status", "runnable"},
                         {"estimate_s", e.estimate_s},
                         {"reconfigure", e.reconfigure}});
    for (const auto& e : plan.skipped)
        cands.push_back({{"name", e.def->name}, {"status", to_string(RunStatus::Skipped)}, {"reason", e.skip}});
    meta["matrix"]["candidates"] = cands;
    meta["matrix"]["estimate_s"] = plan.estimate_s;
    meta["engines"] = nlohmann::json::object();
}

class MatrixRun {
public:
    MatrixRun(const Options& o, const DriverRegistry& drivers, WorkloadRegistry& workloads, const CandidateFile& file,
              const MatrixPlan& plan, const MatrixSettings& st, Resumed& resumed, RunContext& ctx,
              std::map<std::string, std::string> settings, EngineState current)
        : o_(o),
          drivers_(drivers),
          workloads_(workloads),
          file_(file),
          plan_(plan),
          st_(st),
          resumed_(resumed),
          ctx_(ctx),
          settings_(std::move(settings)),
          state_(current),
          original_(std::move(current)) {}
    int run();

private:
    Status skipped_rows();
    bool all_done(const MatrixEntry& e) const;
    const UnitProgress* progress_of(const MatrixEntry& e, const MatrixUnit& u) const;
    Status run_candidate(const MatrixEntry& e, const std::string& label);
    // The driver set up as the candidate needs (its playbook run when the engine is not): nullptr
    // after an error row was written for it (`written` false: writing that row failed).
    std::unique_ptr<Driver> ready_driver(const MatrixEntry& e, const std::string& label, Probe& probe, Status& written);
    Status run_unit(const MatrixEntry& e, const MatrixUnit& u, Driver& driver, const Probe& probe,
                    const std::string& label);
    std::function<void(int, int, bool)> progress_printer(const std::string& label, const std::string& what,
                                                         double unit_est) const;
    int finish();
    fs::path setup_log() const { return fs::path(ctx_.csv_path()).replace_extension(".setup.log"); }
    Status error_row(const MatrixEntry& e, const std::string& why) {
        std::printf("%s: error: %s\n", e.def->name.c_str(), why.c_str());
        return ctx_.candidate_row(e.def->columns, RunStatus::Error, why);
    }

    const Options& o_;
    const DriverRegistry& drivers_;
    WorkloadRegistry& workloads_;
    const CandidateFile& file_;
    const MatrixPlan& plan_;
    const MatrixSettings& st_;
    Resumed& resumed_;
    RunContext& ctx_;
    const std::map<std::string, std::string> settings_;  // candidate -> engine setting it needs
    EngineState state_;                                  // the engines' settings as the run goes
    const EngineState original_;                         // as found
    PlaybookMounts mounts_;
    const Clock::time_point t_start_ = Clock::now();
    double est_done_ = 0;          // the plan's estimate for the units finished so far
    std::set<std::string> swept_;  // driver/runtime pairs whose dead runs' leftovers were swept
    int units_done_ = 0;
    const int kMaxConsecutiveErrors = RunOptions{}.max_consecutive_errors;
};

Status MatrixRun::skipped_rows() {  // once each, even across resumes
    for (const auto& e : plan_.skipped) {
        if (resumed_.done.contains(unit_key(e.def->name, "*", ""))) continue;
        if (auto s = ctx_.candidate_row(e.def->columns, RunStatus::Skipped, e.skip); !s) return s;
    }
    return {};
}

const UnitProgress* MatrixRun::progress_of(const MatrixEntry& e, const MatrixUnit& u) const {
    auto it = resumed_.done.find(unit_key(e.def->name, u.workload, u.param));
    return it == resumed_.done.end() ? nullptr : &it->second;
}

bool MatrixRun::all_done(const MatrixEntry& e) const {
    return std::all_of(e.units.begin(), e.units.end(), [&](const MatrixUnit& u) {
        auto* p = progress_of(e, u);
        return p && p->finished(u, kMaxConsecutiveErrors);
    });
}

int MatrixRun::run() {
    std::printf("matrix %s: %zu candidates runnable, %zu skipped; %zu units, %zu runs; expected ~%s%s\n",
                st_.selection.c_str(), plan_.runnable.size(), plan_.skipped.size(), plan_.unit_count(),
                plan_.run_count(), format_duration(plan_.estimate_s).c_str(),
                o_.resume.empty() ? "" : " (before what the resumed file holds)");
    if (!plan_.skipped.empty()) std::printf("%s", skipped_by_reason(plan_.skipped).c_str());
    std::printf("results: %s\n", ctx_.csv_path().c_str());
    std::fflush(stdout);
    if (auto s = skipped_rows(); !s) return report_error(s.error().message());
    for (std::size_t ci = 0; ci < plan_.runnable.size() && !interrupted(); ++ci) {
        const MatrixEntry& e = plan_.runnable[ci];
        const std::string label =
            "[" + std::to_string(ci + 1) + "/" + std::to_string(plan_.runnable.size()) + "] " + e.def->name;
        if (all_done(e)) {
            est_done_ += e.estimate_s;
            std::printf("%s: already done in %s\n", label.c_str(), ctx_.csv_path().c_str());
            continue;
        }
        if (auto s = run_candidate(e, label); !s) return report_error(s.error().message());
    }
    restore_engines(original_, state_, file_, settings_, o_.playbooks, setup_log(), interrupted());
    mounts_.release();
    return finish();
}

std::unique_ptr<Driver> MatrixRun::ready_driver(const MatrixEntry& e, const std::string& label, Probe& probe,
                                                Status& written) {
    const Candidate& c = e.def->columns;
    auto driver = make_driver(drivers_, c);
    if (auto s = driver->use_storage(c.storage); !s) {
        written = error_row(e, s.error().message());
        return nullptr;
    }
    probe = driver->probe();
    auto ready = [&] { return probe.available && probe.storage == c.storage; };
    const auto setting = driver->engine_setting_for(c.storage);
    if (!ready() && o_.setup) {  // the engine is not as the candidate needs it: its playbook sets it up
        std::printf("%s: configuring %s (ansible-playbook playbooks/candidates/%s.yml)\n", label.c_str(),
                    e.reconfigure.empty() ? c.storage.c_str() : e.reconfigure.c_str(), e.def->name.c_str());
        std::fflush(stdout);
        auto s = apply_playbook(o_.playbooks, e.def->name, setup_log());
        if (setting) state_[setting->engine] = "";  // unknown until probed
        if (!s) {
            if (!interrupted()) written = error_row(e, "configuring " + e.def->name + ": " + s.error().message());
            return nullptr;
        }
        probe = driver->probe();
    }
    if (setting && probe.available) state_[setting->engine] = setting->engine + ":" + probe.storage;
    if (probe.available && swept_.insert(c.driver + "/" + c.runtime).second) sweep_dead_runs(*driver);
    if (!ready()) {
        written = error_row(
            e, !probe.available ? probe.reason
                                : c.driver + " uses storage " + probe.storage + ", not " + c.storage +
                                      (o_.setup ? " (after its playbook)" : " (--no-setup: its playbook was not run)"));
        return nullptr;
    }
    return driver;
}

Status MatrixRun::run_candidate(const MatrixEntry& e, const std::string& label) {
    Probe probe;
    Status written;
    auto driver = ready_driver(e, label, probe, written);
    if (!driver) return written;
    ctx_.meta()["engines"][e.def->name] = {{"versions", probe.versions},
                                           {"runtime", probe.runtime},
                                           {"storage", probe.storage},
                                           {"description", driver->description()}};
    for (const auto& u : e.units) {
        if (interrupted()) break;
        if (auto s = run_unit(e, u, *driver, probe, label); !s) return s;
    }
    return {};
}

std::function<void(int, int, bool)> MatrixRun::progress_printer(const std::string& label, const std::string& what,
                                                                double unit_est) const {
    return [this, label, what, unit_est, tty = ctx_.tty()](int k, int n, bool warm) {
        double elapsed = std::chrono::duration<double>(Clock::now() - t_start_).count();
        double est_now = est_done_ + unit_est * (k - 1) / std::max(1, n);
        // What is left, scaled by how fast the plan has gone so far.
        double scale = est_now > 5 && elapsed > 5 ? std::clamp(elapsed / est_now, 0.2, 5.0) : 1.0;
        double left = std::max(0.0, plan_.estimate_s - est_now) * scale;
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s  %s  run %d/%d%s  elapsed %s, left ~%s", label.c_str(), what.c_str(), k, n,
                      warm ? " (warmup)" : "", format_duration(elapsed).c_str(), format_duration(left).c_str());
        if (tty)
            std::fprintf(stderr, "\r\033[K%s", buf);
        else if (k == 1)
            std::fprintf(stderr, "%s\n", buf);
    };
}

Status MatrixRun::run_unit(const MatrixEntry& e, const MatrixUnit& u, Driver& driver, const Probe& probe,
                           const std::string& label) {
    Workload* w = workloads_.find_mutable(u.workload);
    w->set_native_tools(st_.tools == "native" && w->has_native_tools());
    const double unit_est = (u.runs + u.warmup) * per_run_estimate(file_, *e.def, *w);
    RunOptions ro;
    ro.timeout = std::chrono::milliseconds(static_cast<long long>(st_.timeout_s * 1000));
    ro.images_dir = o_.images_dir;
    ro.data_dir = o_.data_dir;
    ro.run_id = ctx_.run_id();
    ro.host = host_name();
    ro.runs = u.runs;
    ro.warmup = u.warmup;
    ro.image = e.def->columns.image;
    ro.candidate = e.def->columns;
    if (const auto* p = progress_of(e, u)) {
        if (p->finished(u, ro.max_consecutive_errors)) {
            est_done_ += unit_est;
            return {};
        }
        ro.warmup_done = p->warmup;
        ro.runs_done = p->runs;
        ro.consecutive_errors = p->trailing_errors;
    }
    const std::string what = u.workload + (u.param.empty() ? "" : " " + u.param);
    Progress progress;
    progress.on_run = progress_printer(label, what, unit_est);
    progress.on_data = dataset_progress_printer(ctx_.tty());
    auto recs = run_workload(driver, probe, *w, u.param, ro, ctx_.sink(), progress);
    if (ctx_.tty()) std::fprintf(stderr, "\r\033[K");
    if (!recs) return fail(std::move(recs.error()));
    if (!recs->empty() && recs->front().status != RunStatus::Skipped)
        for (const auto& [tool, version] : w->versions())
            ctx_.meta()["engines"][e.def->name]["versions"][tool] = version;
    est_done_ += unit_est;
    ++units_done_;
    ctx_.count(*recs);
    // The unit's summary is over every row it has: those before an interruption too.
    auto all = std::move(resumed_.earlier[unit_key(e.def->name, u.workload, u.param)]);
    all.insert(all.end(), recs->begin(), recs->end());
    std::printf("%s  %s: %s\n", e.def->name.c_str(), what.c_str(), unit_summary_line(all).c_str());
    std::fflush(stdout);
    return ctx_.summarize_unit(e.def->name, u.workload, u.param, all);
}

int MatrixRun::finish() {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start_).count();
    auto& meta = ctx_.meta();
    meta["elapsed_s"] = elapsed;
    const auto& oh = ctx_.overhead();
    if (oh.runs)
        meta["harness_overhead"] = {
            {"runs", oh.runs}, {"mean_ms", oh.ms / oh.runs}, {"percent_of_run", 100 * oh.ms / oh.wall_ms}};
    std::printf("matrix done in %s (expected ~%s): %d units run, %d failed runs, %zu candidates skipped\n",
                format_duration(elapsed).c_str(), format_duration(plan_.estimate_s).c_str(), units_done_,
                ctx_.failed_runs(), plan_.skipped.size());
    if (oh.runs)
        std::printf(
            "harness overhead (outside the timed phases): %.3f ms per run, %.2f%% of the run time, over %d runs\n",
            oh.ms / oh.runs, 100 * oh.ms / oh.wall_ms, oh.runs);
    return ctx_.finish("harness --resume " + ctx_.csv_path().string());
}

}  // namespace

int run_matrix(const Options& o, const DriverRegistry& drivers, WorkloadRegistry& workloads,
               const std::vector<std::string>& argv) {
    auto file = load_candidates(o.candidates);
    if (!file) return report_error(file.error().message());
    Resumed resumed;
    if (!o.resume.empty()) {
        if (!fs::exists(o.resume)) return report_error("cannot resume " + o.resume.string() + ": no such file", 2);
        auto r = read_resumed(o.resume);
        if (!r) return report_error(r.error().message());
        resumed = std::move(*r);
    } else {
        resumed.settings = settings_from_options(o);
    }
    const MatrixSettings& st = resumed.settings;
    auto selected = select_candidates(*file, st.selection);
    if (!selected) return report_error(selected.error().message(), 2);

    std::set<std::string> managers;  // only the engines the selection runs on are asked
    for (const auto* def : *selected) managers.insert(def->columns.driver);
    std::fprintf(stderr, "probing this host's engines...\n");
    HostFacts facts = gather_host_facts(drivers, *file, o.images_dir, managers);
    auto settings = candidate_settings(drivers, *file);
    auto current = current_settings(drivers, managers);
    std::map<std::string, Capabilities> caps;
    for (const auto* def : *selected)
        if (auto key = def->columns.driver + "/" + def->columns.runtime; !caps.count(key))
            if (auto d = make_driver(drivers, def->columns)) caps[key] = d->capabilities();
    MatrixPlan plan = make_plan(*file, *selected, facts, settings, current, workloads, st, caps);
    if (!o.setup) plan.skip_reconfiguring("its playbook; --no-setup given");
    if (o.dry_run) return std::printf("%s", format_plan(plan, *selected, *file, st).c_str()), 0;

    auto ctx = o.resume.empty() ? RunContext::begin(o.out, "matrix-", argv)
                                : RunContext::resume(o.resume, std::move(resumed.meta), argv);
    if (!ctx) return report_error(ctx.error().message());
    if (o.resume.empty())
        ctx->meta()["matrix"] = {{"settings", st.to_json()}, {"candidates_file", o.candidates.string()}};
    plan_metadata(ctx->meta(), plan);
    if (auto s = ctx->save(); !s) return report_error(s.error().message());
    MatrixRun run(o, drivers, workloads, *file, plan, st, resumed, *ctx, std::move(settings), std::move(current));
    return run.run();
}

}  // namespace ctrbench
