#include "harness/cli.h"

#include <CLI/CLI.hpp>
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
        "  harness --matrix all --quick           the same with fewer runs and the smallest parameters (minutes)\n"
        "  harness --matrix driver=docker,storage=btrfs|vfs --test boot\n"
        "  harness --resume results/X.csv         continue an interrupted matrix run",
        "harness"};
    app.add_flag("--list", o.list, "list drivers (with availability here) and workloads, then exit");
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
    app.add_option("--image", o.image, "image: minimal (busybox-static) or full (Debian minbase)")
        ->capture_default_str();
    app.add_option("--out", o.out,
                   "CSV results file, appended to (JSON metadata beside it); default results/<run id>.csv");
    app.add_option("--images", o.images_dir, "directory holding the built images")->capture_default_str();
    app.add_option("--data", o.data_dir, "directory where generated datasets are cached")->capture_default_str();
    app.add_option(
        "--matrix", o.matrix,
        "run candidates of candidates.yml: all, a filter KEY=V[|V],... (keys: driver, runtime, storage, image, "
        "cgroup, rootless), or names joined by ','; with --test, only those workloads (names joined by ',')");
    app.add_flag("--dry-run", o.dry_run,
                 "with --matrix: print every candidate as runnable or skipped with the reason, "
                 "and the plan's expected duration; run nothing");
    app.add_flag(
        "--quick", o.quick,
        "with --matrix: no warmup, 3 boot runs and 1 run of the smallest parameter of each other workload (CI)");
    app.add_flag("!--no-setup", o.setup,
                 "with --matrix: never run a candidate's playbook; candidates that need an "
                 "engine reconfigured are skipped");
    app.add_option("--resume", o.resume,
                   "continue the matrix run whose CSV this is, with its options, without "
                   "redoing finished runs");
    app.add_option("--candidates", o.candidates, "the candidate file")->capture_default_str();
    app.add_option("--playbooks", o.playbooks, "the Ansible playbooks directory (candidates/<name>.yml)")
        ->capture_default_str();
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
    auto error = [&](std::string msg) {
        res.exit_code = 2;
        res.message = std::move(msg);
        return res;
    };
    if (o.list) {
        res.proceed = true;
        return res;
    }
    if (o.matrix_mode()) {
        if (!o.driver.empty()) return error("--driver and --matrix exclude each other (a candidate names its driver)");
        if (!o.runtime.empty())
            return error("--runtime is for --driver; with --matrix, filter: --matrix runtime=" + o.runtime);
        if (o.image_given) return error("--image is for --driver; with --matrix, filter: --matrix image=" + o.image);
        if (!o.storage.empty())
            return error("--storage is for --driver; with --matrix, filter: --matrix storage=" + o.storage);
        if (!o.resume.empty() && (!o.matrix.empty() || o.quick || o.runs_given || o.warmup_given || o.test_given ||
                                  !o.params.empty() || o.tools_given || o.timeout_given))
            return error(
                "--resume continues a run with its own options: give it alone (with --out, --no-setup at most)");
        if (!o.resume.empty() && o.dry_run) return error("--dry-run and --resume exclude each other");
        if (!o.resume.empty() && !o.out.empty()) return error("--resume appends to the file it continues: drop --out");
        std::vector<std::string> tests;
        std::stringstream in(o.test);
        for (std::string t; std::getline(in, t, ',');) {
            if (!workloads.find(t)) return error("unknown test '" + t + "' (valid: " + join(workloads.names()) + ")");
            tests.push_back(t);
        }
        if (!o.params.empty() && tests.size() != 1) return error("--param needs exactly one --test");
        if (o.quick && o.runs_given) return error("--quick sets the runs itself: drop --runs or --quick");
        if (o.tools != "agent" && o.tools != "native")
            return error("unknown --tools '" + o.tools + "' (valid: agent, native)");
        if (tests.size() != 1 || (o.tools == "native" && !workloads.find(tests.front())->has_native_tools())) {
            res.proceed = true;  // several workloads: each is checked when the plan is made
            return res;
        }
    } else if (o.dry_run || o.quick || !o.setup) {
        return error(std::string(o.dry_run ? "--dry-run" : o.quick ? "--quick" : "--no-setup") + " is for --matrix");
    }
    if (o.driver.empty() && !o.matrix_mode()) {
        res.exit_code = 2;
        res.message = "no --driver given (valid: " + join(drivers.names()) + "); see --help";
        return res;
    }
    if (!o.matrix_mode() && !drivers.make(o.driver)) {
        res.exit_code = 2;
        res.message = "unknown driver '" + o.driver + "' (valid: " + join(drivers.names()) + ")";
        return res;
    }
    if (!o.matrix_mode() && !o.runtime.empty() && !drivers.make(o.driver, o.runtime)) {
        auto rts = drivers.runtimes(o.driver);
        res.exit_code = 2;
        res.message = rts.empty()
                          ? "driver " + o.driver + " takes no --runtime (it is its own runtime)"
                          : "unknown runtime '" + o.runtime + "' for " + o.driver + " (valid: " + join(rts) + ")";
        return res;
    }
    const Workload* w = workloads.find(o.test);
    if (!w) {
        res.exit_code = 2;
        res.message = "unknown test '" + o.test + "' (valid: " + join(workloads.names()) + ")";
        return res;
    }
    for (const auto& p : o.params) {
        auto eq = p.find('=');
        if (w->param_name().empty()) {
            res.exit_code = 2;
            res.message = "test '" + o.test + "' takes no --param, got '" + p + "'";
            return res;
        }
        if (eq == std::string::npos || p.substr(0, eq) != w->param_name()) {
            res.exit_code = 2;
            res.message = "test '" + o.test + "' takes --param " + w->param_name() + "=VALUE, got '" + p + "'";
            return res;
        }
        if (!w->accepts(p.substr(eq + 1))) {
            res.exit_code = 2;
            res.message = "unknown value in --param '" + p + "' (valid: " + w->param_hint() + ")";
            return res;
        }
    }
    if (o.tools != "agent" && o.tools != "native") {
        res.exit_code = 2;
        res.message = "unknown --tools '" + o.tools + "' (valid: agent, native)";
        return res;
    }
    if (o.tools == "native" && !w->has_native_tools()) {
        res.exit_code = 2;
        res.message = "test '" + o.test +
                      "' has no native-tools form (--tools native: sqlite-read, sqlite-write, files-read, tar-extract)";
        return res;
    }
    if (o.image != "minimal" && o.image != "full") {
        res.exit_code = 2;
        res.message = "unknown image '" + o.image + "' (valid: minimal, full)";
        return res;
    }
    res.proceed = true;
    return res;
}

}  // namespace ctrbench
