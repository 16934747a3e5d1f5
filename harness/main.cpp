// harness: the ctrbench command line. Parses, checks the driver can run here, runs the workload,
// writes CSV + JSON and prints the summary. Every error is printed once, on one line.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "harness/cli.h"
#include "harness/console_report.h"
#include "harness/engine_setup.h"
#include "harness/host_metadata.h"
#include "harness/interrupt.h"
#include "harness/matrix.h"
#include "harness/run_context.h"
#include "harness/runner.h"
#include "workloads/checkpoint.h"

using namespace ctrbench;

namespace {

int list(const DriverRegistry& drivers, const WorkloadRegistry& workloads) {
    std::printf("drivers:\n");
    for (const auto& name : drivers.names()) {
        auto runtimes = drivers.runtimes(name);
        if (runtimes.empty()) runtimes = {""};
        for (const auto& rt : runtimes) {
            auto d = drivers.make(name, rt);
            auto p = d->probe();
            std::printf("  %-8s %-10s %s%s\n", name.c_str(), p.available ? "available" : "skipped",
                        rt.empty() ? "" : ("[--runtime " + rt + "] ").c_str(),
                        p.available ? d->description().c_str() : p.reason.c_str());
        }
    }
    std::printf("workloads:\n");
    for (const auto& w : workloads.all()) {
        std::string params = w->param_name().empty() ? "no parameters" : w->param_name() + "=";
        if (!w->param_name().empty())
            for (const auto& v : w->param_values()) params += v + "|";
        if (params.back() == '|') params.pop_back();
        std::printf("  %-12s %s  (%s)\n", w->name().c_str(), w->description().c_str(), params.c_str());
    }
    return 0;
}

// `harness --cleanup`: every driver removes what dead ctrbench processes left on its engine.
int cleanup(const DriverRegistry& drivers) {
    std::size_t removed = 0;
    for (const auto& name : drivers.names()) {
        auto runtimes = drivers.runtimes(name);
        if (runtimes.empty()) runtimes = {""};
        for (const auto& rt : runtimes)
            for (const auto& what : drivers.make(name, rt)->sweep_dead()) {
                std::printf("removed %s\n", what.c_str());
                ++removed;
            }
    }
    for (const auto& what : CheckpointWorkload::sweep_dead()) {  // the workloads' own, on the host
        std::printf("removed %s\n", what.c_str());
        ++removed;
    }
    if (removed)
        std::printf("cleanup: removed %zu thing(s) left by ctrbench runs that are gone\n", removed);
    else
        std::printf("cleanup: nothing left by ctrbench runs that are gone\n");
    return 0;
}

// The driver's probe, checked to run here with the storage asked for: or the error line.
Result<Probe> usable_probe(const Options& o, Driver& driver) {
    Probe probe = driver.probe();
    if (!probe.available) return fail_msg("driver " + o.driver + " is not available on this host: " + probe.reason);
    if (!o.storage.empty() && probe.storage != o.storage)
        return fail_msg("driver " + o.driver + " uses storage " + probe.storage + ", not " + o.storage +
                        ": it is set by the engine's configuration (harness --matrix storage=" + o.storage +
                        " runs its playbook)");
    return probe;
}

// One driver, one workload, each parameter asked for (or every one): `harness --driver`.
int run_single(const Options& o, const DriverRegistry& drivers, WorkloadRegistry& workloads,
               const std::vector<std::string>& argv) {
    auto driver = drivers.make(o.driver, o.runtime);
    if (!o.storage.empty())
        if (auto s = driver->use_storage(o.storage); !s) return report_error(s.error().message(), 2);
    if (o.seccomp == "unconfined" && !driver->capabilities().unconfined_seccomp)
        return report_error(
            "driver " + o.driver + " cannot run without its seccomp filter (--seccomp unconfined is for lean)", 2);
    if (o.userns && !driver->capabilities().userns)
        return report_error("driver " + o.driver + " has no --userns (it is for lean)", 2);
    auto usable = usable_probe(o, *driver);
    if (!usable) return report_error(usable.error().message());
    const Probe& probe = *usable;
    sweep_dead_runs(*driver);
    Workload* workload = workloads.find_mutable(o.test);
    workload->set_native_tools(o.tools == "native");
    if (auto rootfs = image_rootfs(o.images_dir, o.image); !rootfs) return report_error(rootfs.error().message());

    auto ctx = RunContext::begin(o.out, "", argv);
    if (!ctx) return report_error(ctx.error().message());
    RunOptions ro;
    ro.runs = workload->runs_or(o.runs_given ? o.runs : 0);
    ro.warmup = workload->warmup_or(o.warmup_given ? o.warmup : -1);
    ro.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
    ro.image = o.image;
    ro.seccomp = o.seccomp == "default";
    ro.userns = o.userns;
    ro.images_dir = o.images_dir;
    ro.data_dir = o.data_dir;
    ro.run_id = ctx->run_id();
    ro.host = host_name();
    auto& meta = ctx->meta();
    meta["driver"] = {{"name", driver->name()},
                      {"description", driver->description()},
                      {"versions", probe.versions},
                      {"runtime", probe.runtime},
                      {"storage", probe.storage}};
    meta["options"] = {{"runs", ro.runs},   {"warmup", ro.warmup}, {"timeout_ms", ro.timeout.count()},
                       {"image", o.image},  {"tools", o.tools},    {"seccomp", o.seccomp},
                       {"userns", o.userns}};
    for (const auto& [key, value] : workload->metadata()) meta["options"][key] = value;
    if (workload->unsupported(driver->capabilities(), *image_rootfs(o.images_dir, o.image)).empty())
        for (const auto& [tool, version] : workload->versions()) meta["driver"]["versions"][tool] = version;
    if (auto s = ctx->save(); !s) return report_error(s.error().message());

    std::vector<std::string> params;
    for (const auto& p : o.params) params.push_back(p.substr(p.find('=') + 1));
    if (params.empty()) params = workload->param_values();
    if (params.empty()) params = {""};
    std::vector<std::pair<std::string, std::vector<RunRecord>>> by_param;
    for (const auto& param : params) {
        Progress progress;
        progress.on_run =
            run_progress_printer(ctx->tty(), o.driver + " " + workload->name() + (param.empty() ? "" : " " + param));
        progress.on_data = dataset_progress_printer(ctx->tty());
        auto records = run_workload(*driver, probe, *workload, param, ro, ctx->sink(), progress);
        if (ctx->tty()) std::fprintf(stderr, "\r\033[K");
        if (!records) return report_error(records.error().message());
        ctx->count(*records);
        std::cout << format_summary(*records) << std::flush;
        by_param.emplace_back(param, *records);
        auto candidate = records->empty() ? std::string() : records->front().candidate.name();
        if (auto s = ctx->summarize_unit(candidate, workload->name(), param, *records); !s)
            return report_error(s.error().message());
        if (interrupted()) break;
    }
    if (const auto ref = workload->reference(); !ref.figures.empty())
        std::cout << workload->name() << " on " << o.driver << ":\n"
                  << figure_table(by_param, ref.source, ref.figures) << std::flush;
    return ctx->finish();
}

int harness_main(int argc, char** argv) {
    auto drivers = builtin_drivers();
    auto workloads = builtin_workloads();
    const std::vector<std::string> args(argv, argv + argc);
    auto parsed = parse_cli(std::vector<std::string>(args.begin() + 1, args.end()), drivers, workloads);
    if (!parsed.proceed) {
        if (parsed.exit_code == 0) return std::fputs(parsed.message.c_str(), stdout), 0;
        return report_error(parsed.message, parsed.exit_code);
    }
    const Options& o = parsed.options;
    if (o.list) return list(drivers, workloads);
    if (o.cleanup) return cleanup(drivers);
    if (o.matrix_mode()) return run_matrix(o, drivers, workloads, args);
    return run_single(o, drivers, workloads, args);
}

}  // namespace

// An exception no layer turned into an Error is still one line and a non-zero exit, after the stack
// unwound: the destructors stopped and cleaned what was running; the rows written stay.
int main(int argc, char** argv) {
    try {
        return harness_main(argc, argv);
    } catch (const std::exception& e) {
        return report_error(std::string("internal error: ") + e.what());
    }
}
