#include "harness/matrix.h"

#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include "drivers/common/subprocess.h"
#include "harness/console_report.h"
#include "harness/host_facts.h"
#include "harness/host_info.h"
#include "harness/interrupt.h"
#include "harness/result_sink.h"
#include "harness/runner.h"
#include "harness/stats.h"

namespace ctrbench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

int die(const std::string& msg, int code = 1) {
    std::fprintf(stderr, "harness: %s\n", msg.c_str());
    return code;
}

double per_run_estimate(const CandidateFile& f, const CandidateDef& c, const Workload& w) {
    auto get = [](const std::map<std::string, double>& m, const std::string& k, double dflt) {
        auto it = m.find(k);
        return it == m.end() ? dflt : it->second;
    };
    double work = get(f.estimate.workload, w.name(), 0.5);
    if (w.measures_itself()) return work;
    double life = get(f.estimate.container, c.c.driver + "-" + c.c.runtime,
                      get(f.estimate.container, c.c.driver, get(f.estimate.container, "default", 1.0)));
    return life + work;
}

// The one driver a candidate runs on (a manager's runtime given when the manager has several).
std::unique_ptr<Driver> make_driver(const DriverRegistry& drivers, const Candidate& c) {
    return drivers.runtimes(c.driver).empty() ? drivers.make(c.driver) : drivers.make(c.driver, c.runtime);
}

// Runs `playbooks/candidates/<name>.yml` against this host; its output goes to `log`.
Status apply_playbook(const fs::path& playbooks, const std::string& candidate, const fs::path& log) {
    auto book = playbooks / "candidates" / (candidate + ".yml");
    if (!fs::exists(book)) return fail_msg("no playbook " + book.string());
    if (find_program("ansible-playbook").empty())
        return fail_msg("ansible-playbook is not installed (apt-get install ansible-core)");
    auto r = run_process({"env", "ANSIBLE_CONFIG=" + (playbooks / "ansible.cfg").string(), "ansible-playbook", "-i",
                          (playbooks / "inventory" / "localhost.ini").string(), book.string()},
                         std::chrono::minutes(20));
    std::ofstream out(log, std::ios::app);
    out << "== " << utc_now() << " ansible-playbook " << book.string() << "\n";
    if (r) out << r->out << r->err;
    if (!r) return fail(std::move(r.error()));
    if (!r->ok())
        return fail_msg("its playbook " + book.string() + " failed (" + r->describe({"ansible-playbook"}) +
                        "; log: " + log.string() + ")");
    return {};
}

}  // namespace

std::string skipped_by_reason(const std::vector<MatrixEntry>& skipped) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // in order of first appearance
    for (const auto& e : skipped) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == e.skip; });
        if (it == groups.end())
            groups.push_back({e.skip, {e.def->name}});
        else
            it->second.push_back(e.def->name);
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
    std::string out;
    for (const auto& [why, names] : groups) {
        out += "  " + std::to_string(names.size()) + " skipped: " + why + " (" + names.front();
        if (names.size() > 1) out += names.size() == 2 ? ", " + names[1] : ", " + names[1] + ", …";
        out += ")\n";
    }
    return out;
}

std::string format_duration(double s) {
    if (s < 0) s = 0;
    long t = std::lround(s);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t % 3600 / 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

nlohmann::json MatrixSettings::to_json() const {
    return {{"selection", selection}, {"tests", tests},   {"params", params}, {"quick", quick},
            {"runs", runs},           {"warmup", warmup}, {"tools", tools},   {"timeout_s", timeout_s}};
}

MatrixSettings MatrixSettings::from_json(const nlohmann::json& j) {
    MatrixSettings s;
    s.selection = j.value("selection", "all");
    s.tests = j.value("tests", std::vector<std::string>{});
    s.params = j.value("params", std::vector<std::string>{});
    s.quick = j.value("quick", false);
    s.runs = j.value("runs", 0);
    s.warmup = j.value("warmup", -1);
    s.tools = j.value("tools", "agent");
    s.timeout_s = j.value("timeout_s", 60.0);
    return s;
}

std::string engine_config(const CandidateDef& c) {
    return c.c.driver == "docker" ? "docker:" + c.c.storage : "";
}

bool UnitProgress::finished(const MatrixUnit& u, int max_consecutive_errors) const {
    return skipped || trailing_errors >= max_consecutive_errors || (runs >= u.runs && warmup >= u.warmup);
}

std::string unit_key(const std::string& candidate, const std::string& workload, const std::string& param) {
    return candidate + "|" + workload + "|" + param;
}

MatrixPlan make_plan(const CandidateFile& file, const std::vector<const CandidateDef*>& selected, const HostFacts& host,
                     const std::map<std::string, std::string>& current, const WorkloadRegistry& workloads,
                     const MatrixSettings& st) {
    MatrixPlan plan;
    for (const auto* def : selected) {
        MatrixEntry e;
        e.def = def;
        e.skip = evaluate(file, *def, host);
        if (!e.skip.empty()) {
            plan.skipped.push_back(std::move(e));
            continue;
        }
        for (const auto& w : workloads.all()) {
            if (!st.tests.empty() && std::find(st.tests.begin(), st.tests.end(), w->name()) == st.tests.end()) continue;
            std::vector<std::string> params = st.params;
            if (params.empty()) params = w->param_values();
            if (params.empty()) params = {""};
            if (st.quick && st.params.empty()) params.resize(1);  // the smallest value comes first
            for (const auto& p : params) {
                MatrixUnit u{w->name(), p, 0, 0};
                if (st.quick) {
                    u.runs = w->quick_runs();
                    u.warmup = 0;
                } else {
                    u.runs = st.runs > 0 ? st.runs : w->default_runs() > 0 ? w->default_runs() : 20;
                    u.warmup = st.warmup >= 0 ? st.warmup : w->default_warmup() >= 0 ? w->default_warmup() : 3;
                }
                e.estimate_s += (u.runs + u.warmup) * per_run_estimate(file, *def, *w);
                e.units.push_back(std::move(u));
            }
        }
        plan.runnable.push_back(std::move(e));
    }
    // Group by engine configuration: none first, then each engine's current one, then the others;
    // inside a group, the file's order. Each change of group is one playbook run.
    auto rank = [&](const MatrixEntry& e) {
        auto cfg = engine_config(*e.def);
        if (cfg.empty()) return std::make_pair(0, cfg);
        auto engine = cfg.substr(0, cfg.find(':'));
        auto cur = current.find(engine);
        return std::make_pair(cur != current.end() && cur->second == cfg ? 1 : 2, cfg);
    };
    std::stable_sort(plan.runnable.begin(), plan.runnable.end(),
                     [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    std::map<std::string, std::string> state = current;
    for (auto& e : plan.runnable) {
        auto cfg = engine_config(*e.def);
        if (!cfg.empty()) {
            auto engine = cfg.substr(0, cfg.find(':'));
            if (state[engine] != cfg) {
                auto from = state[engine].empty() ? std::string("unknown") : state[engine].substr(engine.size() + 1);
                e.reconfigure = engine + ": storage " + from + " -> " + cfg.substr(engine.size() + 1);
                e.estimate_s += file.estimate.reconfigure;
                state[engine] = cfg;
            }
        }
        plan.estimate_s += e.estimate_s;
    }
    return plan;
}

std::map<std::string, UnitProgress> progress_from_rows(const std::vector<std::map<std::string, std::string>>& rows) {
    std::map<std::string, UnitProgress> out;
    for (const auto& r : rows) {
        auto& p = out[unit_key(r.at("candidate"), r.at("workload"), r.at("param"))];
        const auto& status = r.at("status");
        if (status == "interrupted") continue;  // redone on resume
        if (status == "skipped") {
            p.skipped = true;
            continue;
        }
        (r.at("warmup") == "1" ? p.warmup : p.runs)++;
        p.trailing_errors = status == "ok" ? 0 : p.trailing_errors + 1;
    }
    return out;
}

int run_matrix(const Options& o, const DriverRegistry& drivers, WorkloadRegistry& workloads, int argc, char** argv) {
    auto file = load_candidates(o.candidates);
    if (!file) return die(file.error().message());

    // Settings: from the command line, or from the metadata of the run being resumed.
    MatrixSettings st;
    nlohmann::json meta;
    fs::path csv = o.out;
    std::map<std::string, UnitProgress> done;
    std::map<std::string, std::vector<RunRecord>> earlier;  // a resumed run's rows per unit, for its summaries
    if (!o.resume.empty()) {
        csv = o.resume;
        if (!fs::exists(csv)) return die("cannot resume " + csv.string() + ": no such file", 2);
        auto mp = metadata_path(csv);
        std::ifstream in(mp);
        if (!in) return die("cannot resume " + csv.string() + ": its metadata " + mp.string() + " is missing");
        try {
            meta = nlohmann::json::parse(in);
        } catch (const std::exception& e) {
            return die("cannot resume " + csv.string() + ": " + mp.string() + " is not valid JSON (" + e.what() + ")");
        }
        if (!meta.contains("matrix"))
            return die("cannot resume " + csv.string() + ": it is not a matrix run (no \"matrix\" in " + mp.string() +
                       ")");
        st = MatrixSettings::from_json(meta["matrix"]["settings"]);
        auto rows = read_csv(csv);
        if (!rows) return die("cannot resume: " + rows.error().message());
        done = progress_from_rows(*rows);
        for (const auto& r : *rows)
            if (r.at("status") != "interrupted")  // redone on resume
                earlier[unit_key(r.at("candidate"), r.at("workload"), r.at("param"))].push_back(record_from_row(r));
    } else {
        st.selection = o.matrix;
        if (o.test_given) {
            std::stringstream in(o.test);
            for (std::string t; std::getline(in, t, ',');) st.tests.push_back(t);
        }
        for (const auto& p : o.params) st.params.push_back(p.substr(p.find('=') + 1));
        st.quick = o.quick;
        st.runs = o.runs_given ? o.runs : 0;
        st.warmup = o.warmup_given ? o.warmup : -1;
        st.tools = o.tools;
        st.timeout_s = o.timeout_s;
    }
    auto selected = select_candidates(*file, st.selection);
    if (!selected) return die(selected.error().message(), 2);

    std::fprintf(stderr, "probing this host's engines...\n");
    HostFacts facts = gather_host_facts(drivers, *file, o.images_dir);
    std::map<std::string, std::string> current;
    if (auto d = drivers.make("docker", "runc")) {
        auto p = d->probe();
        if (p.available) current["docker"] = "docker:" + p.storage;
    }
    MatrixPlan plan = make_plan(*file, *selected, facts, current, workloads, st);
    if (!o.setup)  // without playbooks, a candidate needing another engine configuration cannot run
        for (auto it = plan.runnable.begin(); it != plan.runnable.end();) {
            if (it->reconfigure.empty()) {
                ++it;
                continue;
            }
            it->skip = "needs " + it->reconfigure + " (its playbook; --no-setup given)";
            plan.estimate_s -= it->estimate_s;
            plan.skipped.push_back(std::move(*it));
            it = plan.runnable.erase(it);
        }

    std::size_t unit_count = 0, run_count = 0;
    for (const auto& e : plan.runnable)
        for (const auto& u : e.units) {
            ++unit_count;
            run_count += u.runs + u.warmup;
        }
    if (o.dry_run) {
        std::printf("candidates (%s, %zu of %zu in the file):\n", st.selection.c_str(), selected->size(),
                    file->candidates.size());
        for (const auto* def : *selected) {
            auto r =
                std::find_if(plan.runnable.begin(), plan.runnable.end(), [&](const auto& e) { return e.def == def; });
            if (r != plan.runnable.end())
                std::printf("  %-48s runnable  %zu units, ~%s%s\n", def->name.c_str(), r->units.size(),
                            format_duration(r->estimate_s).c_str(),
                            r->reconfigure.empty() ? "" : ("; reconfigures " + r->reconfigure).c_str());
            else
                for (const auto& s : plan.skipped)
                    if (s.def == def) std::printf("  %-48s skipped: %s\n", def->name.c_str(), s.skip.c_str());
        }
        std::printf("order: ");
        for (std::size_t i = 0; i < plan.runnable.size(); ++i)
            std::printf("%s%s", i ? ", " : "", plan.runnable[i].def->name.c_str());
        std::printf("\nskipped, by reason:\n%s", skipped_by_reason(plan.skipped).c_str());
        std::printf(
            "plan: %zu runnable, %zu skipped; %zu workload/parameter units, %zu runs%s; expected duration ~%s\n",
            plan.runnable.size(), plan.skipped.size(), unit_count, run_count, st.quick ? " (quick)" : "",
            format_duration(plan.estimate_s).c_str());
        return 0;
    }

    std::string run_id = o.resume.empty() ? run_id_now() : meta.value("run_id", run_id_now());
    if (csv.empty()) csv = fs::path("results") / ("matrix-" + run_id + ".csv");
    auto sink = CsvSink::open(csv);
    if (!sink) return die(sink.error().message());
    const auto meta_path = metadata_path(sink->path());
    const auto setup_log = fs::path(sink->path()).replace_extension(".setup.log");
    std::string cmdline;
    for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
    if (o.resume.empty()) {
        meta["ctrbench_version"] = CTRBENCH_VERSION;
        meta["run_id"] = run_id;
        meta["started"] = utc_now();
        meta["command_line"] = cmdline;
        meta["host"] = host_metadata();
        meta["matrix"] = {{"settings", st.to_json()}, {"candidates_file", o.candidates.string()}};
        meta["results"] = nlohmann::json::array();
    } else {
        meta["resumed"].push_back({{"at", utc_now()}, {"command_line", cmdline}});
    }
    nlohmann::json cands = nlohmann::json::array();
    for (const auto& e : plan.runnable)
        cands.push_back({{"name", e.def->name},
                         {"status", "runnable"},
                         {"estimate_s", e.estimate_s},
                         {"reconfigure", e.reconfigure}});
    for (const auto& e : plan.skipped)
        cands.push_back({{"name", e.def->name}, {"status", "skipped"}, {"reason", e.skip}});
    meta["matrix"]["candidates"] = cands;
    meta["matrix"]["estimate_s"] = plan.estimate_s;
    meta["engines"] = nlohmann::json::object();
    if (auto s = write_json(meta_path, meta); !s) return die(s.error().message());

    install_interrupt_handlers();
    const bool tty = ::isatty(STDERR_FILENO);
    std::printf("matrix %s: %zu candidates runnable, %zu skipped; %zu units, %zu runs; expected ~%s%s\n",
                st.selection.c_str(), plan.runnable.size(), plan.skipped.size(), unit_count, run_count,
                format_duration(plan.estimate_s).c_str(),
                o.resume.empty() ? "" : " (before what the resumed file holds)");
    if (!plan.skipped.empty()) std::printf("%s", skipped_by_reason(plan.skipped).c_str());
    std::printf("results: %s\n", sink->path().c_str());
    std::fflush(stdout);

    // Skipped candidates: one row each, with the reason (once, even across resumes).
    for (const auto& e : plan.skipped) {
        if (done.contains(unit_key(e.def->name, "*", ""))) continue;
        RunRecord rec;
        rec.run_id = run_id;
        rec.time = utc_now();
        rec.host = host_name();
        rec.candidate = e.def->c;
        rec.workload = "*";
        rec.status = "skipped";
        rec.error = e.skip;
        if (auto s = sink->write(rec); !s) return die(s.error().message());
    }

    // A btrfs loop filesystem the candidates' playbooks mount is unmounted at the end, like Docker
    // is put back: the host is left as it was found.
    auto btrfs_mounted = [] { return mounted_at("", kBtrfsLoopMount); };
    const bool btrfs_was_mounted = btrfs_mounted();
    const auto t_start = Clock::now();
    double est_done = 0;  // the plan's estimate for the units finished so far
    int failed_runs = 0, units_done = 0;
    double overhead_ms = 0, overhead_wall = 0;
    int overhead_runs = 0;
    std::map<std::string, std::string> state = current;
    const std::map<std::string, std::string> original = current;
    RunOptions base;
    base.timeout = std::chrono::milliseconds(static_cast<long long>(st.timeout_s * 1000));
    base.images_dir = o.images_dir;
    base.data_dir = o.data_dir;
    base.run_id = run_id;
    base.host = host_name();

    auto error_rows = [&](const MatrixEntry& e, const std::string& why) -> Status {
        RunRecord rec;
        rec.run_id = run_id;
        rec.time = utc_now();
        rec.host = base.host;
        rec.candidate = e.def->c;
        rec.workload = "*";
        rec.status = "error";
        rec.error = why;
        std::printf("%s: error: %s\n", e.def->name.c_str(), why.c_str());
        ++failed_runs;
        return sink->write(rec);
    };

    for (std::size_t ci = 0; ci < plan.runnable.size() && !interrupted(); ++ci) {
        const MatrixEntry& e = plan.runnable[ci];
        const std::string label =
            "[" + std::to_string(ci + 1) + "/" + std::to_string(plan.runnable.size()) + "] " + e.def->name;
        bool all_done = true;
        for (const auto& u : e.units) {
            auto it = done.find(unit_key(e.def->name, u.workload, u.param));
            all_done = all_done && it != done.end() && it->second.finished(u, base.max_consecutive_errors);
        }
        if (all_done) {
            est_done += e.estimate_s;
            std::printf("%s: already done in %s\n", label.c_str(), csv.c_str());
            continue;
        }
        // The driver, with the candidate's storage; when the engine is not as the candidate needs
        // it (docker's storage driver, podman's btrfs filesystem), its playbook sets it up once.
        auto driver = make_driver(drivers, e.def->c);
        if (auto s = driver->use_storage(e.def->c.storage); !s) {
            if (auto w = error_rows(e, s.error().message()); !w) return die(w.error().message());
            continue;
        }
        Probe probe = driver->probe();
        auto ready = [&] { return probe.available && probe.storage == e.def->c.storage; };
        const auto cfg = engine_config(*e.def);
        const auto engine = cfg.substr(0, cfg.find(':'));
        if (!ready() && o.setup) {
            std::printf("%s: configuring %s (ansible-playbook playbooks/candidates/%s.yml)\n", label.c_str(),
                        e.reconfigure.empty() ? e.def->c.storage.c_str() : e.reconfigure.c_str(), e.def->name.c_str());
            std::fflush(stdout);
            auto s = apply_playbook(o.playbooks, e.def->name, setup_log);
            if (!cfg.empty()) state[engine] = "";  // unknown until probed
            if (!s) {
                if (interrupted()) break;
                if (auto w = error_rows(e, "configuring " + e.def->name + ": " + s.error().message()); !w)
                    return die(w.error().message());
                continue;
            }
            probe = driver->probe();
        }
        if (!cfg.empty() && probe.available) state[engine] = engine + ":" + probe.storage;
        if (!ready()) {
            auto why = !probe.available
                           ? probe.reason
                           : e.def->c.driver + " uses storage " + probe.storage + ", not " + e.def->c.storage +
                                 (o.setup ? " (after its playbook)" : " (--no-setup: its playbook was not run)");
            if (auto w = error_rows(e, why); !w) return die(w.error().message());
            continue;
        }
        meta["engines"][e.def->name] = {{"versions", probe.versions},
                                        {"runtime", probe.runtime},
                                        {"storage", probe.storage},
                                        {"description", driver->description()}};
        for (std::size_t ui = 0; ui < e.units.size() && !interrupted(); ++ui) {
            const MatrixUnit& u = e.units[ui];
            Workload* w = workloads.find_mutable(u.workload);
            w->set_native_tools(st.tools == "native" && w->has_native_tools());
            RunOptions ro = base;
            ro.runs = u.runs;
            ro.warmup = u.warmup;
            ro.image = e.def->c.image;
            ro.candidate = e.def->c;
            if (auto it = done.find(unit_key(e.def->name, u.workload, u.param)); it != done.end()) {
                const auto& p = it->second;
                if (p.finished(u, ro.max_consecutive_errors)) {
                    est_done += (u.runs + u.warmup) * per_run_estimate(*file, *e.def, *w);
                    continue;
                }
                ro.warmup_done = p.warmup;
                ro.runs_done = p.runs;
                ro.consecutive_errors = p.trailing_errors;
            }
            const std::string what = u.workload + (u.param.empty() ? "" : " " + u.param);
            const double unit_est = (u.runs + u.warmup) * per_run_estimate(*file, *e.def, *w);
            Progress progress;
            progress.on_run = [&](int k, int n, bool warm) {
                double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
                double est_now = est_done + unit_est * (k - 1) / std::max(1, n);
                // What is left, scaled by how fast the plan has gone so far.
                double scale = est_now > 5 && elapsed > 5 ? std::clamp(elapsed / est_now, 0.2, 5.0) : 1.0;
                double left = std::max(0.0, plan.estimate_s - est_now) * scale;
                char buf[512];
                std::snprintf(buf, sizeof buf, "%s  %s  run %d/%d%s  elapsed %s, left ~%s", label.c_str(), what.c_str(),
                              k, n, warm ? " (warmup)" : "", format_duration(elapsed).c_str(),
                              format_duration(left).c_str());
                if (tty)
                    std::fprintf(stderr, "\r\033[K%s", buf);
                else if (k == 1)
                    std::fprintf(stderr, "%s\n", buf);
            };
            progress.on_data = dataset_progress_printer(tty);
            auto recs = run_workload(*driver, probe, *w, u.param, ro, *sink, progress);
            if (tty) std::fprintf(stderr, "\r\033[K");
            if (!recs) return die(recs.error().message());
            est_done += unit_est;
            ++units_done;
            for (const auto& r : *recs) {
                failed_runs += r.status != "ok" && r.status != "skipped" && r.status != "interrupted";
                if (r.wall_ms && r.overhead_ms) {
                    ++overhead_runs;
                    overhead_ms += *r.overhead_ms;
                    overhead_wall += *r.wall_ms;
                }
            }
            // The unit's summary is over every row it has: those before an interruption too.
            std::vector<RunRecord> unit_recs = std::move(earlier[unit_key(e.def->name, u.workload, u.param)]);
            unit_recs.insert(unit_recs.end(), recs->begin(), recs->end());
            std::printf("%s  %s: %s\n", e.def->name.c_str(), what.c_str(), unit_summary_line(unit_recs).c_str());
            std::fflush(stdout);
            auto& results = meta["results"];
            for (auto it = results.begin(); it != results.end();)  // the summary written before the interruption
                if (it->value("candidate", "") == e.def->name && it->value("workload", "") == u.workload &&
                    it->value("param", "") == u.param)
                    it = results.erase(it);
                else
                    ++it;
            results.push_back({{"candidate", e.def->name},
                               {"workload", u.workload},
                               {"param", u.param},
                               {"summary", summary_json(unit_recs)}});
            if (auto s = write_json(meta_path, meta); !s) return die(s.error().message());
        }
    }

    // Leave the engines as they were found.
    for (const auto& [engine, cfg] : original) {
        if (state[engine] == cfg) continue;
        const CandidateDef* back = nullptr;
        for (const auto& c : file->candidates)
            if (engine_config(c) == cfg && !back) back = &c;
        if (!back) {
            std::fprintf(stderr, "harness: warning: %s was %s before the matrix; no candidate restores it\n",
                         engine.c_str(), cfg.c_str());
            continue;
        }
        if (interrupted()) {  // no 20-second playbook after a Ctrl-C: say how instead
            std::fprintf(stderr,
                         "harness: %s is left configured for the last candidate; to put it back as it was (%s): "
                         "ansible-playbook playbooks/candidates/%s.yml\n",
                         engine.c_str(), cfg.c_str(), back->name.c_str());
            continue;
        }
        std::printf("restoring %s to %s (playbooks/candidates/%s.yml)\n", engine.c_str(), cfg.c_str(),
                    back->name.c_str());
        if (auto s = apply_playbook(o.playbooks, back->name, setup_log); !s)
            std::fprintf(stderr, "harness: warning: restoring %s: %s\n", engine.c_str(), s.error().message().c_str());
        else
            state[engine] = cfg;
    }

    if (!btrfs_was_mounted && btrfs_mounted()) {
        bool in_use = false;
        for (const auto& [engine, cfg] : state) in_use = in_use || cfg.ends_with(":btrfs");
        if (in_use || interrupted())
            std::fprintf(stderr,
                         "harness: %s stays mounted (an engine still uses it); umount it once that is restored\n",
                         kBtrfsLoopMount);
        else if (::umount2(kBtrfsLoopMount, 0) != 0)
            std::fprintf(stderr, "harness: warning: umount %s: %s\n", kBtrfsLoopMount, std::strerror(errno));
        else
            std::printf("unmounted %s (mounted for the btrfs candidates)\n", kBtrfsLoopMount);
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
    meta["finished"] = utc_now();
    meta["interrupted"] = interrupted();
    meta["elapsed_s"] = elapsed;
    if (overhead_runs)
        meta["harness_overhead"] = {{"runs", overhead_runs},
                                    {"mean_ms", overhead_ms / overhead_runs},
                                    {"percent_of_run", 100 * overhead_ms / overhead_wall}};
    if (auto s = write_json(meta_path, meta); !s) return die(s.error().message());
    std::printf("matrix done in %s (expected ~%s): %d units run, %d failed runs, %zu candidates skipped\n",
                format_duration(elapsed).c_str(), format_duration(plan.estimate_s).c_str(), units_done, failed_runs,
                plan.skipped.size());
    if (overhead_runs)
        std::printf(
            "harness overhead (outside the timed phases): %.3f ms per run, %.2f%% of the run time, over %d runs\n",
            overhead_ms / overhead_runs, 100 * overhead_ms / overhead_wall, overhead_runs);
    std::printf("results: %s (metadata: %s)\n", sink->path().c_str(), meta_path.c_str());
    if (interrupted())
        return die(
            "interrupted: the runs measured so far are saved; continue with: harness --resume " + sink->path().string(),
            130);
    if (failed_runs)
        return die(std::to_string(failed_runs) + " run(s) failed; see the error column of " + sink->path().string());
    return 0;
}

}  // namespace ctrbench
