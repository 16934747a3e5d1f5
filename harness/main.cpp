// harness: the ctrbench command line. Parses, checks the driver can run here, runs the workload,
// writes CSV + JSON and prints the summary. Every error is printed once, on one line.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "harness/cli.h"
#include "harness/console_report.h"
#include "harness/host_info.h"
#include "harness/interrupt.h"
#include "harness/matrix.h"
#include "harness/result_sink.h"
#include "harness/runner.h"
#include "workloads/net.h"
#include "workloads/throughput.h"

using namespace ctrbench;

namespace {

int die(const std::string& msg, int code = 1) {
    std::fprintf(stderr, "harness: %s\n", msg.c_str());
    return code;
}

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

}  // namespace

int main(int argc, char** argv) {
    auto drivers = builtin_drivers();
    auto workloads = builtin_workloads();
    auto parsed = parse_cli(std::vector<std::string>(argv + 1, argv + argc), drivers, workloads);
    if (!parsed.proceed) {
        if (parsed.exit_code == 0) return std::fputs(parsed.message.c_str(), stdout), 0;
        return die(parsed.message, parsed.exit_code);
    }
    const Options& o = parsed.options;
    if (o.list) return list(drivers, workloads);
    if (o.matrix_mode()) return run_matrix(o, drivers, workloads, argc, argv);

    auto driver = drivers.make(o.driver, o.runtime);
    if (!o.storage.empty())
        if (auto s = driver->use_storage(o.storage); !s) return die(s.error().message(), 2);
    Probe probe = driver->probe();
    if (!probe.available) return die("driver " + o.driver + " is not available on this host: " + probe.reason);
    if (!o.storage.empty() && probe.storage != o.storage)
        return die("driver " + o.driver + " uses storage " + probe.storage + ", not " + o.storage +
                   ": it is set by the engine's configuration (harness --matrix storage=" + o.storage +
                   " runs its playbook)");
    Workload* workload = workloads.find_mutable(o.test);
    workload->set_native_tools(o.tools == "native");
    if (auto rootfs = image_rootfs(o.images_dir, o.image); !rootfs) return die(rootfs.error().message());

    RunOptions ro;
    ro.runs = !o.runs_given && workload->default_runs() > 0 ? workload->default_runs() : o.runs;
    ro.warmup = !o.warmup_given && workload->default_warmup() >= 0 ? workload->default_warmup() : o.warmup;
    ro.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
    ro.image = o.image;
    ro.images_dir = o.images_dir;
    ro.data_dir = o.data_dir;
    ro.run_id = run_id_now();
    ro.host = host_name();
    auto out = o.out.empty() ? std::filesystem::path("results") / (ro.run_id + ".csv") : o.out;
    auto sink = CsvSink::open(out);
    if (!sink) return die(sink.error().message());

    nlohmann::json meta;
    meta["ctrbench_version"] = CTRBENCH_VERSION;
    meta["run_id"] = ro.run_id;
    meta["started"] = utc_now();
    std::string cmdline;
    for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
    meta["command_line"] = cmdline;
    meta["host"] = host_metadata();
    meta["driver"] = {{"name", driver->name()},
                      {"description", driver->description()},
                      {"versions", probe.versions},
                      {"runtime", probe.runtime},
                      {"storage", probe.storage}};
    meta["options"] = {{"runs", ro.runs},
                       {"warmup", ro.warmup},
                       {"timeout_ms", ro.timeout.count()},
                       {"image", o.image},
                       {"tools", o.tools}};
    if (workload->awaits_response()) meta["options"]["http_poll_interval_ms"] = HttpWorkload::kPollInterval.count();
    if (workload->measures_itself()) meta["options"]["throughput_window_ms"] = ThroughputWorkload::kWindow.count();
    meta["results"] = nlohmann::json::array();
    const auto meta_path = metadata_path(sink->path());
    if (auto s = write_json(meta_path, meta); !s) return die(s.error().message());

    install_interrupt_handlers();
    std::vector<std::string> params;
    for (const auto& p : o.params) params.push_back(p.substr(p.find('=') + 1));
    if (params.empty()) params = workload->param_values();
    if (params.empty()) params = {""};

    const bool tty = ::isatty(STDERR_FILENO);
    int failed_runs = 0;
    for (const auto& param : params) {
        std::string label = o.driver + " " + workload->name() + (param.empty() ? "" : " " + param);
        Progress progress;
        progress.on_run = run_progress_printer(tty, label);
        progress.on_data = dataset_progress_printer(tty);
        auto records = run_workload(*driver, probe, *workload, param, ro, *sink, progress);
        if (tty) std::fprintf(stderr, "\r\033[K");
        if (!records) return die(records.error().message());
        for (const auto& r : *records) failed_runs += r.status != "ok" && r.status != "skipped";
        std::cout << format_summary(*records) << std::flush;
        meta["results"].push_back({{"candidate", records->empty() ? "" : records->front().candidate.name()},
                                   {"workload", workload->name()},
                                   {"param", param},
                                   {"summary", summary_json(*records)}});
        if (interrupted()) break;
    }
    meta["finished"] = utc_now();
    meta["interrupted"] = interrupted();
    if (auto s = write_json(meta_path, meta); !s) return die(s.error().message());
    std::printf("results: %s (metadata and samples: %s)\n", sink->path().c_str(), meta_path.c_str());
    if (interrupted()) return die("interrupted: the runs measured so far are saved", 130);
    if (failed_runs)
        return die(std::to_string(failed_runs) + " run(s) failed; see the error column of " + sink->path().string());
    return 0;
}
