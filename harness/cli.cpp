#include "harness/cli.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <sstream>

namespace ctrbench {
namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// CLI11's own range checks speak of "Value abc not in range 1 to 1000000" and print a positive
// range as 2.2e-308 to 1.8e308 in full: say what the option takes instead.
CLI::Validator whole_number(long long lo, long long hi) {
    return CLI::Validator(
        [lo, hi](std::string& v) -> std::string {
            std::size_t used = 0;
            long long n = 0;
            try {
                n = std::stoll(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size()) return "'" + v + "' is not a whole number";
            if (n < lo || n > hi)
                return v + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")";
            return "";
        },
        "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

CLI::Validator positive_seconds() {
    return CLI::Validator(
        [](std::string& v) -> std::string {
            std::size_t used = 0;
            double s = 0;
            try {
                s = std::stod(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size()) return "'" + v + "' is not a number of seconds";
            if (!(s > 0) || s > 86400) return v + " is out of range (more than 0, at most 86400 seconds)";
            return "";
        },
        "SECONDS > 0");
}

// The checks made after parsing, in order: the first that fails is the one error line (exit 2).
// `applies` says when a rule is asked at all; `problem` gives the message, "" when the options pass.
struct Rule {
    bool (*applies)(const Options&);
    std::function<std::string(const Options&)> problem;
};

bool matrix(const Options& o) {
    return o.matrix_mode();
}
bool single(const Options& o) {
    return !o.matrix_mode();
}
bool resuming(const Options& o) {
    return !o.resume.empty();
}
bool always(const Options&) {
    return true;
}

std::string when(bool bad, std::string msg) {
    return bad ? std::move(msg) : std::string();
}

std::vector<std::string> split_tests(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string t; std::getline(in, t, ',');) out.push_back(t);
    return out;
}

// The one workload whose parameters and tools the options are checked against: the --test of a
// single run, or the matrix's only --test; none when the matrix runs several.
const Workload* one_workload(const Options& o, const WorkloadRegistry& workloads) {
    auto tests = split_tests(o.test);
    return tests.size() == 1 ? workloads.find(tests.front()) : nullptr;
}

std::string param_problem(const Options& o, const Workload& w) {
    for (const auto& p : o.params) {
        auto eq = p.find('=');
        if (w.param_name().empty()) return "test '" + o.test + "' takes no --param, got '" + p + "'";
        if (eq == std::string::npos || p.substr(0, eq) != w.param_name())
            return "test '" + o.test + "' takes --param " + w.param_name() + "=VALUE, got '" + p + "'";
        if (!w.accepts(p.substr(eq + 1))) return "unknown value in --param '" + p + "' (valid: " + w.param_hint() + ")";
    }
    return "";
}

// "--runtime is for --driver; with --matrix, filter: --matrix runtime=crun" when `value` is given.
Rule driver_only(const char* key, std::string (*value)(const Options&)) {
    return {matrix, [key, value](const Options& o) {
                return when(!value(o).empty(), std::string("--") + key +
                                                   " is for --driver; with --matrix, filter: --matrix " + key + "=" +
                                                   value(o));
            }};
}

// The rules of the candidate matrix (--matrix, --resume).
std::vector<Rule> matrix_rules(const WorkloadRegistry& workloads) {
    auto valid_tests = "(valid: " + join(workloads.names()) + ")";
    auto unknown_test = [&workloads, valid_tests](const std::string& list) {
        for (const auto& t : split_tests(list))
            if (!workloads.find(t)) return "unknown test '" + t + "' " + valid_tests;
        return std::string();
    };
    return {
        {matrix,
         [](auto& o) {
             return when(!o.driver.empty(), "--driver and --matrix exclude each other (a candidate names its driver)");
         }},
        driver_only("runtime", [](const Options& o) { return o.runtime; }),
        driver_only("image", [](const Options& o) { return o.image_given ? o.image : ""; }),
        driver_only("storage", [](const Options& o) { return o.storage; }),
        {matrix,
         [](auto& o) {
             return when(o.seccomp != "default" || o.userns,
                         std::string(o.userns ? "--userns" : "--seccomp") +
                             " is for --driver lean: a candidate of the matrix runs as its engine does by default");
         }},
        {resuming,
         [](auto& o) {
             return when(
                 !o.matrix.empty() || o.quick || o.runs_given || o.warmup_given || o.test_given || !o.params.empty() ||
                     o.tools_given || o.timeout_given,
                 "--resume continues a run with its own options: give it alone (with --out, --no-setup at most)");
         }},
        {resuming, [](auto& o) { return when(o.dry_run, "--dry-run and --resume exclude each other"); }},
        {resuming,
         [](auto& o) { return when(!o.out.empty(), "--resume appends to the file it continues: drop --out"); }},
        {matrix, [unknown_test](auto& o) { return unknown_test(o.test); }},
        {matrix,
         [](auto& o) {
             return when(!o.params.empty() && split_tests(o.test).size() != 1, "--param needs exactly one --test");
         }},
        {matrix,
         [](auto& o) { return when(o.quick && o.runs_given, "--quick sets the runs itself: drop --runs or --quick"); }},
    };
}

// Every rule, in the order they are asked: the matrix's, then those of a single run and both.
std::vector<Rule> rules(const DriverRegistry& drivers, const WorkloadRegistry& workloads) {
    auto valid_tests = "(valid: " + join(workloads.names()) + ")";
    auto valid_drivers = "(valid: " + join(drivers.names()) + ")";
    auto one = [&workloads](const Options& o) { return one_workload(o, workloads); };
    std::vector<Rule> all = matrix_rules(workloads);
    std::vector<Rule> single_run = {
        {single,
         [](auto& o) {
             return when(o.dry_run || o.quick || !o.setup, std::string(o.dry_run ? "--dry-run"
                                                                       : o.quick ? "--quick"
                                                                                 : "--no-setup") +
                                                               " is for --matrix");
         }},
        {single,
         [valid_drivers](auto& o) {
             return when(o.driver.empty(), "no --driver given " + valid_drivers + "; see --help");
         }},
        {single,
         [&drivers, valid_drivers](auto& o) {
             return when(!drivers.make(o.driver), "unknown driver '" + o.driver + "' " + valid_drivers);
         }},
        {single,
         [&drivers](auto& o) {
             if (o.runtime.empty() || drivers.make(o.driver, o.runtime)) return std::string();
             auto rts = drivers.runtimes(o.driver);
             return rts.empty() ? "driver " + o.driver + " takes no --runtime (it is its own runtime)"
                                : "unknown runtime '" + o.runtime + "' for " + o.driver + " (valid: " + join(rts) + ")";
         }},
        {single,
         [&workloads, valid_tests](auto& o) {
             return when(!workloads.find(o.test), "unknown test '" + o.test + "' " + valid_tests);
         }},
        {always,
         [one](auto& o) {
             auto* w = one(o);
             return w ? param_problem(o, *w) : std::string();
         }},
        {always,
         [](auto& o) {
             return when(o.tools != "agent" && o.tools != "native",
                         "unknown --tools '" + o.tools + "' (valid: agent, native)");
         }},
        {single,
         [one](auto& o) {
             return when(
                 o.tools == "native" && !one(o)->has_native_tools(),
                 "test '" + o.test +
                     "' has no native-tools form (--tools native: sqlite-read, sqlite-write, files-read, tar-extract)");
         }},
        {single,
         [](auto& o) {
             return when(o.image != "minimal" && o.image != "full",
                         "unknown image '" + o.image + "' (valid: minimal, full)");
         }},
    };
    all.insert(all.end(), single_run.begin(), single_run.end());
    return all;
}

// The options of a run: what to run (driver, workload, parameters), how often, where results go.
void add_run_options(CLI::App& app, Options& o, const DriverRegistry& drivers, const WorkloadRegistry& workloads) {
    app.add_flag("--list", o.list, "list drivers (with availability here) and workloads, then exit");
    app.add_flag("--cleanup", o.cleanup,
                 "remove what ctrbench runs killed with -9 (or a crash) left behind: containers of every engine, "
                 "bundles, writable layers, cgroups; say what, then exit");
    app.add_option("--driver", o.driver, "driver to run: " + join(drivers.names()));
    app.add_option("--runtime", o.runtime,
                   "OCI runtime under a manager driver: docker with runc, crun or runsc; podman with crun or runc");
    app.add_option(
        "--storage", o.storage,
        "the writable layer's storage: lean, crun, runc, runsc: overlay (upper layer on disk, the default) or "
        "tmpfs (in RAM); podman: overlay, vfs or btrfs; docker's is its daemon's (see --matrix storage=...)");
    app.add_option("--test", o.test, "workload to run: " + join(workloads.names()))->capture_default_str();
    app.add_option("--param", o.params, "workload parameter KEY=VALUE (repeatable); none = every value");
    app.add_option("--runs", o.runs, "measured runs per workload and parameter (throughput: 3 windows)")
        ->capture_default_str()
        ->check(whole_number(1, 1'000'000));
    app.add_option("--warmup", o.warmup, "unrecorded-in-summary warmup runs before the measured ones")
        ->capture_default_str()
        ->check(whole_number(0, 1'000'000));
    app.add_option("--timeout", o.timeout_s, "seconds a workload command may run before it is killed")
        ->capture_default_str()
        ->check(positive_seconds());
    app.add_option(
           "--tools", o.tools,
           "agent: every image runs ctrbench's static agent; native: the image's own sqlite3, tar, find and cat "
           "(sqlite-read, sqlite-write, files-read, tar-extract)")
        ->capture_default_str();
    app.add_option("--seccomp", o.seccomp,
                   "default: the engine's seccomp filter (lean: Docker's default profile); unconfined: none "
                   "(lean only: to measure what the filter costs)")
        ->check(CLI::IsMember({"default", "unconfined"}))
        ->capture_default_str();
    app.add_flag("--userns", o.userns,
                 "a user namespace of the container's own: its root is host uid 100000, unprivileged on the host "
                 "(lean only)");
    app.add_option("--image", o.image, "image: minimal (busybox-static) or full (Debian minbase)")
        ->capture_default_str();
    app.add_option("--out", o.out,
                   "CSV results file, appended to (JSON metadata beside it); default results/<run id>.csv");
    app.add_option("--images", o.images_dir, "directory holding the built images")->capture_default_str();
    app.add_option("--data", o.data_dir, "directory where generated datasets are cached")->capture_default_str();
}

// The options of the candidate matrix.
void add_matrix_options(CLI::App& app, Options& o) {
    app.add_option(
        "--matrix", o.matrix,
        "run candidates of candidates.yml: all, a filter KEY=V[|V],... (keys: driver, runtime, storage, image, "
        "cgroup, rootless), or names joined by ','; with --test, only those workloads (names joined by ',')");
    app.add_flag("--dry-run", o.dry_run,
                 "with --matrix: print every candidate as runnable or skipped with the reason, "
                 "and the plan's expected duration; run nothing");
    app.add_flag("--quick", o.quick,
                 "with --matrix: no warmup, 3 boot runs and 1 run of the smallest parameter of each other workload; "
                 "a stack met again with another image only boots; the service workloads run only on stacks that "
                 "can restore a checkpoint (CI)");
    app.add_flag("!--no-setup", o.setup,
                 "with --matrix: never run a candidate's playbook; candidates that need an "
                 "engine reconfigured are skipped");
    app.add_option("--resume", o.resume,
                   "continue the matrix run whose CSV this is, with its options, without "
                   "redoing finished runs");
    app.add_option("--candidates", o.candidates, "the candidate file")->capture_default_str();
    app.add_option("--playbooks", o.playbooks, "the Ansible playbooks directory (candidates/<name>.yml)")
        ->capture_default_str();
}

std::string first_violation(const Options& o, const DriverRegistry& drivers, const WorkloadRegistry& workloads) {
    for (const auto& rule : rules(drivers, workloads))
        if (rule.applies(o))
            if (auto why = rule.problem(o); !why.empty()) return why;
    return "";
}

}  // namespace

ParseOutcome parse_cli(const std::vector<std::string>& args, const DriverRegistry& drivers,
                       const WorkloadRegistry& workloads) {
    ParseOutcome res;
    Options& o = res.options;
    o.images_dir = CTRBENCH_IMAGES_DIR;
    o.data_dir = CTRBENCH_DATA_DIR;
    o.candidates = std::filesystem::path(CTRBENCH_SOURCE_DIR) / "candidates.yml";
    o.playbooks = std::filesystem::path(CTRBENCH_SOURCE_DIR) / "playbooks";
    CLI::App app{
        "ctrbench harness: time to a ready, isolated container, phase by phase (create, start, exec,\n"
        "stop, clean), for each container stack this host can run.\n\n"
        "  harness --driver lean --test boot      boot benchmark on the lean runtime\n"
        "  harness --driver docker --runtime crun --test sqlite-read --param db=11.9MB\n"
        "  harness --list                         drivers and workloads, and whether this host can run them\n"
        "  harness --matrix all --dry-run         every candidate of candidates.yml: runnable or skipped, and why\n"
        "  harness --matrix all                   every runnable candidate through every workload (hours)\n"
        "  harness --matrix all --quick           fewer runs, the smallest parameters, one image per stack beyond boot "
        "(minutes)\n"
        "  harness --matrix driver=docker,storage=btrfs|vfs --test boot\n"
        "  harness --resume results/X.csv         continue an interrupted matrix run",
        "harness"};
    add_run_options(app, o, drivers, workloads);
    add_matrix_options(app, o);
    app.set_version_flag("--version", std::string("ctrbench ") + CTRBENCH_VERSION);

    std::vector<std::string> rev(args.rbegin(), args.rend());  // CLI11 takes them reversed
    try {
        app.parse(rev);
    } catch (const CLI::CallForHelp&) {
        res.message = app.help();
        return res;
    } catch (const CLI::CallForVersion&) {
        res.message = std::string("ctrbench ") + CTRBENCH_VERSION + "\n";
        return res;
    } catch (const CLI::ParseError& e) {
        res.exit_code = 2;
        res.message = e.what();
        return res;
    }
    o.runs_given = app.count("--runs") > 0;
    o.warmup_given = app.count("--warmup") > 0;
    o.test_given = app.count("--test") > 0;
    o.timeout_given = app.count("--timeout") > 0;
    o.tools_given = app.count("--tools") > 0;
    o.image_given = app.count("--image") > 0;
    if (!o.list && !o.cleanup)
        if (auto why = first_violation(o, drivers, workloads); !why.empty()) {
            res.exit_code = 2;
            res.message = std::move(why);
            return res;
        }
    res.proceed = true;
    return res;
}

}  // namespace ctrbench
