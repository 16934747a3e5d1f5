#include "harness/matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "harness/runner.h"

namespace ctrbench {

double per_run_estimate(const CandidateFile& f, const CandidateDef& c, const Workload& w) {
    auto get = [](const std::map<std::string, double>& m, const std::string& k, double dflt) {
        auto it = m.find(k);
        return it == m.end() ? dflt : it->second;
    };
    double work = get(f.estimate.workload, w.name(), 0.5);
    if (w.measures_itself()) return work;
    double life = get(f.estimate.container, c.columns.driver + "-" + c.columns.runtime,
                      get(f.estimate.container, c.columns.driver, get(f.estimate.container, "default", 1.0)));
    return life + work;
}

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

bool UnitProgress::finished(const MatrixUnit& u, int max_consecutive_errors) const {
    return skipped || trailing_errors >= max_consecutive_errors || (runs >= u.runs && warmup >= u.warmup);
}

std::string unit_key(const std::string& candidate, const std::string& workload, const std::string& param) {
    return candidate + "|" + workload + "|" + param;
}

namespace {

// The units of one runnable candidate: each selected workload, with each parameter asked for (or
// every one; the smallest alone in a quick plan), runs as the settings or the workload say.
void add_units(MatrixEntry& e, const CandidateFile& file, const WorkloadRegistry& workloads, const MatrixSettings& st,
               const std::map<std::string, Capabilities>& caps) {
    const auto cap = caps.find(e.def->columns.driver + "/" + e.def->columns.runtime);
    const bool restores = cap != caps.end() && (cap->second.checkpoint || cap->second.engine_checkpoint);
    for (const auto& w : workloads.all()) {
        if (!st.tests.empty() && std::find(st.tests.begin(), st.tests.end(), w->name()) == st.tests.end()) continue;
        if (!w->image().empty() && (e.def->columns.image != "minimal" || (st.quick && !restores))) continue;
        std::vector<std::string> params = st.params;
        if (params.empty()) params = w->param_values();
        if (params.empty()) params = {""};
        if (st.quick && st.params.empty()) params.resize(1);  // the smallest value comes first
        for (const auto& p : params) {
            MatrixUnit u{w->name(), p, 0, 0};
            u.runs = st.quick ? w->quick_runs() : w->runs_or(st.runs);
            u.warmup = st.quick ? 0 : w->warmup_or(st.warmup);
            e.estimate_s += (u.runs + u.warmup) * per_run_estimate(file, *e.def, *w);
            e.units.push_back(std::move(u));
        }
    }
}

// A quick plan runs every workload once per engine (manager, runtime, cgroup, rootless): a candidate
// that differs from an earlier runnable one by its image or its storage alone boots (the image's
// weight and the storage's create and clean show in the boot) and runs nothing else; the full matrix
// runs everything everywhere.
void boot_only_for_other_images_and_storage(MatrixPlan& plan, const CandidateFile& file,
                                            const WorkloadRegistry& workloads) {
    std::set<std::string> stacks;
    for (auto& e : plan.runnable) {
        auto c = e.def->columns;
        c.image.clear();
        c.storage.clear();
        if (stacks.insert(c.name()).second) continue;
        std::erase_if(e.units, [](const MatrixUnit& u) { return u.workload != "boot"; });
        e.estimate_s = 0;
        for (const auto& u : e.units)
            e.estimate_s += (u.runs + u.warmup) * per_run_estimate(file, *e.def, *workloads.find(u.workload));
        e.quick_note = "boot only (its engine runs the rest with another image or storage)";
    }
}

// Groups by engine setting: none first, then each engine's current one, then the others; inside a
// group, the file's order. Each change of group is one playbook run, noted on the entry.
void order_by_setting(MatrixPlan& plan, const CandidateFile& file, const std::map<std::string, std::string>& settings,
                      const std::map<std::string, std::string>& current) {
    auto setting = [&](const MatrixEntry& e) {
        auto it = settings.find(e.def->name);
        return it == settings.end() ? std::string() : it->second;
    };
    auto engine_of = [](const std::string& cfg) { return cfg.substr(0, cfg.find(':')); };
    auto rank = [&](const MatrixEntry& e) {
        auto cfg = setting(e);
        if (cfg.empty()) return std::make_pair(0, cfg);
        auto cur = current.find(engine_of(cfg));
        return std::make_pair(cur != current.end() && cur->second == cfg ? 1 : 2, cfg);
    };
    std::stable_sort(plan.runnable.begin(), plan.runnable.end(),
                     [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    std::map<std::string, std::string> state = current;
    for (auto& e : plan.runnable) {
        if (auto cfg = setting(e); !cfg.empty()) {
            auto engine = engine_of(cfg);
            if (state[engine] != cfg) {
                auto from = state[engine].empty() ? std::string("unknown") : state[engine].substr(engine.size() + 1);
                e.reconfigure = engine + ": storage " + from + " -> " + cfg.substr(engine.size() + 1);
                e.estimate_s += file.estimate.reconfigure;
                state[engine] = cfg;
            }
        }
        plan.estimate_s += e.estimate_s;
    }
}

}  // namespace

MatrixPlan make_plan(const CandidateFile& file, const std::vector<const CandidateDef*>& selected, const HostFacts& host,
                     const std::map<std::string, std::string>& engine_settings,
                     const std::map<std::string, std::string>& current, const WorkloadRegistry& workloads,
                     const MatrixSettings& st, const std::map<std::string, Capabilities>& caps) {
    MatrixPlan plan;
    for (const auto* def : selected) {
        MatrixEntry e;
        e.def = def;
        e.skip = evaluate(file, *def, host);
        if (!e.skip.empty()) {
            plan.skipped.push_back(std::move(e));
            continue;
        }
        // A quick plan leaves an engine's storage as it is: a candidate that would have the engine
        // reconfigured (docker's storage driver: its playbook and a daemon restart, twice with the way
        // back; LXD's btrfs pool: made, then removed) is the full matrix's. (An engine whose
        // setting is unknown, not running, is left to the plan as before: its probe says why.)
        if (auto cfg = engine_settings.find(def->name); st.quick && cfg != engine_settings.end()) {
            const auto engine = cfg->second.substr(0, cfg->second.find(':'));
            const auto cur = current.find(engine);
            if (cur != current.end() && cur->second != cfg->second) {
                e.skip = "quick: " + engine + "'s storage would change to " + cfg->second.substr(engine.size() + 1) +
                         " (its playbook, and back after the matrix); the full matrix runs it";
                plan.skipped.push_back(std::move(e));
                continue;
            }
        }
        add_units(e, file, workloads, st, caps);
        plan.runnable.push_back(std::move(e));
    }
    if (st.quick && st.tests.empty()) boot_only_for_other_images_and_storage(plan, file, workloads);
    order_by_setting(plan, file, engine_settings, current);
    return plan;
}

std::size_t MatrixPlan::unit_count() const {
    std::size_t n = 0;
    for (const auto& e : runnable) n += e.units.size();
    return n;
}

std::size_t MatrixPlan::run_count() const {
    std::size_t n = 0;
    for (const auto& e : runnable)
        for (const auto& u : e.units) n += u.runs + u.warmup;
    return n;
}

void MatrixPlan::skip_reconfiguring(const std::string& why) {
    for (auto it = runnable.begin(); it != runnable.end();) {
        if (it->reconfigure.empty()) {
            ++it;
            continue;
        }
        it->skip = "needs " + it->reconfigure + " (" + why + ")";
        estimate_s -= it->estimate_s;
        skipped.push_back(std::move(*it));
        it = runnable.erase(it);
    }
}

MatrixSettings settings_from_options(const Options& o) {
    MatrixSettings st;
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
    return st;
}

std::string format_plan(const MatrixPlan& plan, const std::vector<const CandidateDef*>& selected,
                        const CandidateFile& file, const MatrixSettings& st) {
    std::string out;
    auto add = [&out](const char* fmt, auto... args) {
        char buf[1024];
        std::snprintf(buf, sizeof buf, fmt, args...);
        out += buf;
    };
    add("candidates (%s, %zu of %zu in the file):\n", st.selection.c_str(), selected.size(), file.candidates.size());
    for (const auto* def : selected) {
        auto r = std::find_if(plan.runnable.begin(), plan.runnable.end(), [&](const auto& e) { return e.def == def; });
        if (r != plan.runnable.end())
            add("  %-48s runnable  %zu units, ~%s%s%s\n", def->name.c_str(), r->units.size(),
                format_duration(r->estimate_s).c_str(), r->quick_note.empty() ? "" : ("; " + r->quick_note).c_str(),
                r->reconfigure.empty() ? "" : ("; reconfigures " + r->reconfigure).c_str());
        else
            for (const auto& s : plan.skipped)
                if (s.def == def) add("  %-48s skipped: %s\n", def->name.c_str(), s.skip.c_str());
    }
    out += "order: ";
    for (std::size_t i = 0; i < plan.runnable.size(); ++i) out += (i ? ", " : "") + plan.runnable[i].def->name;
    out += "\nskipped, by reason:\n" + skipped_by_reason(plan.skipped);
    add("plan: %zu runnable, %zu skipped; %zu workload/parameter units, %zu runs%s; expected duration ~%s\n",
        plan.runnable.size(), plan.skipped.size(), plan.unit_count(), plan.run_count(), st.quick ? " (quick)" : "",
        format_duration(plan.estimate_s).c_str());
    return out;
}

std::map<std::string, UnitProgress> progress_from_rows(const std::vector<std::map<std::string, std::string>>& rows) {
    std::map<std::string, UnitProgress> out;
    for (const auto& r : rows) {
        if (probe_from_row(r)) continue;  // a probe's row: part of the run before it
        auto& p = out[unit_key(r.at("candidate"), r.at("workload"), r.at("param"))];
        const auto status = parse_run_status(r.at("status")).value_or(RunStatus::Error);
        if (status == RunStatus::Interrupted) continue;  // redone on resume
        if (status == RunStatus::Skipped) {
            p.skipped = true;
            continue;
        }
        (r.at("warmup") == "1" ? p.warmup : p.runs)++;
        p.trailing_errors = status == RunStatus::Ok ? 0 : p.trailing_errors + 1;
    }
    return out;
}

}  // namespace ctrbench
