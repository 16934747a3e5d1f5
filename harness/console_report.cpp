#include "harness/console_report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

namespace ctrbench {
namespace {

std::optional<double> phase_of(const RunRecord& r, const std::string& phase) {
    if (phase == "create") return r.create_ms;
    if (phase == "start") return r.start_ms;
    if (phase == "exec") return r.exec_ms;
    if (phase == "stop") return r.stop_ms;
    if (phase == "clean") return r.clean_ms;
    if (phase == "response") return r.response_ms;
    if (phase == "ready") return ready_ms(r);
    return total_ms(r);
}

std::string line(const char* fmt, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

}  // namespace

std::vector<double> phase_samples(const std::vector<RunRecord>& records, const std::string& phase) {
    std::vector<double> v;
    for (const auto& r : records)
        if (!r.warmup && r.status == RunStatus::Ok)
            if (auto x = phase_of(r, phase)) v.push_back(*x);
    return v;
}

std::map<std::string, std::vector<double>> figure_samples(const std::vector<RunRecord>& records) {
    std::map<std::string, std::vector<double>> out;
    for (const auto& r : records)
        if (!r.warmup && r.status == RunStatus::Ok)
            for (const auto& [name, x] : r.figures) out[name].push_back(x);
    return out;
}

std::vector<double> value_samples(const std::vector<RunRecord>& records) {
    std::vector<double> v;
    for (const auto& r : records)
        if (!r.warmup && r.status == RunStatus::Ok && r.value) v.push_back(*r.value);
    return v;
}

Overhead overhead(const std::vector<RunRecord>& records) {
    Overhead o;
    double wall = 0, outside = 0;
    for (const auto& r : records)
        if (r.wall_ms && r.overhead_ms) {
            ++o.runs;
            wall += *r.wall_ms;
            outside += *r.overhead_ms;
        }
    if (o.runs) {
        o.mean_ms = outside / o.runs;
        o.percent = wall > 0 ? 100 * outside / wall : 0;
    }
    return o;
}

std::function<void(const std::string&, double)> dataset_progress_printer(bool tty) {
    struct State {
        std::chrono::steady_clock::time_point start;
        int quarter = 0;
    };
    auto st = std::make_shared<State>();
    return [tty, st](const std::string& what, double f) {
        if (f <= 0) {
            st->start = std::chrono::steady_clock::now();
            st->quarter = 0;
            std::fprintf(stderr, "%sgenerating dataset %s (once; cached for later runs)\n", tty ? "\r\033[K" : "",
                         what.c_str());
            return;
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->start).count();
        if (f >= 1) {
            std::fprintf(stderr, "%sgenerated dataset %s in %.1f s\n", tty ? "\r\033[K" : "", what.c_str(), s);
        } else if (tty) {
            std::fprintf(stderr, "\r\033[Kgenerating %s: %3.0f%% (%.0f s)", what.c_str(), f * 100, s);
        } else if (static_cast<int>(f * 4) > st->quarter) {
            st->quarter = static_cast<int>(f * 4);
            std::fprintf(stderr, "generating %s: %3.0f%% (%.0f s)\n", what.c_str(), f * 100, s);
        }
    };
}

std::function<void(int, int, bool)> run_progress_printer(bool tty, std::string label) {
    auto start = std::make_shared<std::chrono::steady_clock::time_point>();
    return [tty, label = std::move(label), start](int k, int n, bool warm) {
        if (k == 1) *start = std::chrono::steady_clock::now();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
        char rate[64] = "";
        if (k > 1 && s > 0) std::snprintf(rate, sizeof rate, ", %.1f runs/s", (k - 1) / s);
        const int step = std::max(1, (n + 9) / 10);
        if (tty)
            std::fprintf(stderr, "\r\033[K%s: run %d/%d%s%s", label.c_str(), k, n, warm ? " (warmup)" : "", rate);
        else if (k % step == 0 || k == n)
            std::fprintf(stderr, "%s: run %d/%d%s%s\n", label.c_str(), k, n, warm ? " (warmup)" : "", rate);
    };
}

// The probes of the last measured run that has them: per family blocked of tried, and every probe
// that was allowed or not tried, with what it reached or why.
std::string probe_table(const std::vector<RunRecord>& records) {
    const RunRecord* last = nullptr;
    for (const auto& r : records)
        if (!r.warmup && !r.probes.empty()) last = &r;
    if (!last) return "";
    std::map<std::string, std::pair<int, int>> families;  // blocked, tried
    std::string notes;
    int blocked = 0, tried = 0;
    for (const auto& p : last->probes) {
        auto& [b, t] = families[p.name.substr(0, p.name.find('/'))];
        if (p.verdict != ProbeResult::Verdict::Untried) ++t, ++tried;
        if (p.verdict == ProbeResult::Verdict::Blocked) ++b, ++blocked;
        if (p.verdict != ProbeResult::Verdict::Blocked)
            notes += line("    %-7s %-26s %s\n", to_string(p.verdict), p.name.c_str(), p.detail.substr(0, 160).c_str());
    }
    std::string out = line("  probes  %d of %d tried blocked (%zu not tried):", blocked, tried,
                           last->probes.size() - static_cast<std::size_t>(tried));
    for (const auto& [family, bt] : families) out += line(" %s %d/%d", family.c_str(), bt.first, bt.second);
    return out + "\n" + notes;
}

std::string format_summary(const std::vector<RunRecord>& records) {
    if (records.empty()) return "  no runs\n";
    const auto& first = records.front();
    if (first.status == RunStatus::Skipped)
        return line("%s  %s%s  skipped: %s\n", first.candidate.name().c_str(), first.workload.c_str(),
                    first.param.empty() ? "" : (" " + first.param).c_str(), first.error.c_str());
    int measured = 0, warm = 0, failed = 0;
    std::map<std::string, int> errors;
    for (const auto& r : records) {
        (r.warmup ? warm : measured)++;
        if (r.status != RunStatus::Ok) {
            ++failed;
            ++errors[std::string(to_string(r.status)) + ": " + r.error];
        }
    }
    std::string out = line("%s  %s%s  (%d runs, %d warmup)\n", first.candidate.name().c_str(), first.workload.c_str(),
                           first.param.empty() ? "" : (" " + first.param).c_str(), measured, warm);
    std::size_t outliers = 0;
    for (const auto& phase : phase_names()) {
        auto s = summarize(phase_samples(records, phase));
        if (s.n == 0) continue;
        out += line("  %-7s Time (mean ± σ): %9.3f ms ± %7.3f ms   median %9.3f ms   [min %8.3f … max %8.3f]\n",
                    phase.c_str(), s.mean, s.stddev, s.median, s.min, s.max);
        if (phase == "total") outliers = s.outliers;
    }
    if (auto s = summarize(value_samples(records)); s.n > 0) {
        std::string unit;
        for (const auto& r : records)
            if (r.value) unit = r.unit;
        out += line("  %-7s %12.3f %s (mean)   median %.3f   [min %.3f … max %.3f]\n", "figure", s.mean, unit.c_str(),
                    s.median, s.min, s.max);
    }
    for (const auto& [name, v] : figure_samples(records))
        if (auto s = summarize(v); s.n > 0)
            out += line("  %-12s %9.3f (mean)   median %.3f   [min %.3f … max %.3f]\n", name.c_str(), s.mean, s.median,
                        s.min, s.max);
    out += probe_table(records);
    if (auto o = overhead(records); o.runs > 0)
        out += line("  harness overhead (outside the timed phases): %.3f ms per run, %.2f%% of the run time\n",
                    o.mean_ms, o.percent);
    if (failed) {
        out += line("  %d of %zu runs failed:\n", failed, records.size());
        for (const auto& [msg, n] : errors) out += line("    %dx %s\n", n, msg.substr(0, 300).c_str());
    }
    if (outliers)
        out += line(
            "  Warning: %zu statistical outlier(s) in the total (modified Z-score > 3.5). They can come from "
            "other programs on the host or caches; consider more --warmup runs, more --runs, or a quieter host.\n",
            outliers);
    return out;
}

std::string unit_summary_line(const std::vector<RunRecord>& recs) {
    if (recs.empty()) return "no runs";
    if (recs.front().status == RunStatus::Skipped) return "skipped: " + recs.front().error;
    int failed = 0;
    std::string first_error;
    for (const auto& r : recs)
        if (r.status != RunStatus::Ok) {
            ++failed;
            if (first_error.empty()) first_error = std::string(to_string(r.status)) + ": " + r.error;
        }
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
    // Each figure is the median of per-run values (a total is the median of per-run totals, never a
    // sum of medians), over the same runs: those that succeeded.
    const bool responds = !phase_samples(recs, "response").empty();
    auto ready = summarize(phase_samples(recs, "ready"));
    auto total = summarize(phase_samples(recs, "total"));
    if (ready.n)
        add(line("%s median %.2f ms, all phases (create..clean) median %.2f ms (n=%zu)",
                 responds ? "ready (create..first 200)" : "ready (create..exec)", ready.median, total.median, ready.n));
    if (auto v = summarize(value_samples(recs)); v.n) {
        std::string unit;
        for (const auto& r : recs)
            if (r.value) unit = r.unit;
        add(line("%s median %.3f (n=%zu)", unit.c_str(), v.median, v.n));
    }
    for (const auto& [name, v] : figure_samples(recs))
        if (auto s = summarize(v); s.n) add(line("%s median %.3f (n=%zu)", name.c_str(), s.median, s.n));
    if (auto o = overhead(recs); o.runs > 0) add(line("harness overhead %.2f ms/run (%.2f%%)", o.mean_ms, o.percent));
    if (failed)
        add(std::to_string(failed) + " of " + std::to_string(recs.size()) + " failed (" + first_error.substr(0, 200) +
            ")");
    return out.empty() ? "no successful run" : out;
}

std::string figure_table(const std::vector<std::pair<std::string, std::vector<RunRecord>>>& by_param,
                         const std::string& reference_source,
                         const std::map<std::string, std::map<std::string, double>>& reference) {
    // Rows: the container's own time, then every named figure the runs have, in the reference's order first.
    std::vector<std::string> rows = {"container_ms"};
    for (const auto& [name, by] : reference)
        if (name != "container_ms") rows.push_back(name);
    for (const auto& [param, recs] : by_param)
        for (const auto& [name, v] : figure_samples(recs))
            if (std::find(rows.begin(), rows.end(), name) == rows.end()) rows.push_back(name);
    if (rows.size() == 1) return "";
    std::string out = "  medians in ms, one column per parameter" +
                      std::string(reference.empty() ? "" : " (" + reference_source + "'s in brackets)") + "\n";
    out += line("  %-12s", "");
    for (const auto& [param, recs] : by_param) out += line(" %18s", param.c_str());
    out += "\n";
    for (const auto& row : rows) {
        out += line("  %-12s", row.substr(0, row.size() - 3).c_str());
        for (const auto& [param, recs] : by_param) {
            std::vector<double> v;
            if (row == "container_ms") {
                auto c = phase_samples(recs, "create"), s = phase_samples(recs, "start");
                for (std::size_t i = 0; i < std::min(c.size(), s.size()); ++i) v.push_back(c[i] + s[i]);
            } else {
                auto all = figure_samples(recs);
                if (auto it = all.find(row); it != all.end()) v = it->second;
            }
            std::string cell = v.empty() ? "-" : line("%.2f", summarize(v).median);
            if (auto r = reference.find(row); r != reference.end())
                if (auto p = r->second.find(param); p != r->second.end()) cell += line(" (%.4g)", p->second);
            out += line(" %18s", cell.c_str());
        }
        out += "\n";
    }
    return out;
}

nlohmann::json summary_json(const std::vector<RunRecord>& records) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& phase : phase_names()) {
        auto v = phase_samples(records, phase);
        auto s = summarize(v);
        j[phase + "_ms"] = {{"n", s.n},       {"min", s.min},           {"max", s.max},
                            {"mean", s.mean}, {"stddev", s.stddev},     {"median", s.median},
                            {"p95", s.p95},   {"outliers", s.outliers}, {"samples", v}};
    }
    auto v = value_samples(records);
    auto s = summarize(v);
    std::string unit;
    nlohmann::json details = nlohmann::json::array();
    for (const auto& r : records) {
        if (r.value) unit = r.unit;
        if (!r.detail.empty())
            details.push_back({{"iteration", r.iteration}, {"warmup", r.warmup}, {"detail", r.detail}});
    }
    j["figure"] = {{"unit", unit},   {"n", s.n},           {"min", s.min}, {"max", s.max},
                   {"mean", s.mean}, {"median", s.median}, {"samples", v}};
    j["details"] = details;
    for (const auto& [name, fv] : figure_samples(records)) {
        auto fs = summarize(fv);
        j["figures"][name] = {{"n", fs.n}, {"min", fs.min}, {"max", fs.max}, {"median", fs.median}, {"samples", fv}};
    }
    nlohmann::json probes = nlohmann::json::array();
    for (const auto& r : records)
        for (const auto& p : r.probes)
            probes.push_back({{"iteration", r.iteration},
                              {"warmup", r.warmup},
                              {"probe", p.name},
                              {"verdict", to_string(p.verdict)},
                              {"detail", p.detail}});
    if (!probes.empty()) j["probes"] = probes;
    if (!records.empty() && records.front().status == RunStatus::Skipped) j["skipped"] = records.front().error;
    if (auto o = overhead(records); o.runs > 0)
        j["harness_overhead"] = {{"runs", o.runs}, {"mean_ms", o.mean_ms}, {"percent_of_run", o.percent}};
    return j;
}

}  // namespace ctrbench
