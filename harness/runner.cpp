#include "harness/runner.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "harness/host_metadata.h"
#include "harness/interrupt.h"

namespace ctrbench {
namespace {

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) {
    g_signal = sig;
}

// Fault injection for tests/kill9_phases.sh: CTRBENCH_TEST_KILL_AFTER=PHASE:N ends the harness with
// SIGKILL as soon as PHASE (create, start, exec, stop, clean) of its N-th run has returned, before
// anything of it is recorded: the engine holds what the phase made, the CSV does not have the run.
void kill_point(const std::string& phase) {
    static const char* spec = std::getenv("CTRBENCH_TEST_KILL_AFTER");
    static int creates = 0;
    if (!spec) return;
    if (phase == "create") ++creates;
    if (spec == phase + ":" + std::to_string(creates)) ::kill(::getpid(), SIGKILL);
}

using Clock = std::chrono::steady_clock;
double ms(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

void set_outcome(RunRecord& rec, const Outcome& out) {
    if (!out.unit.empty()) {
        rec.value = out.value;
        rec.unit = out.unit;
    }
    rec.detail = out.detail;
    rec.probes = out.probes;
    rec.figures.insert(out.figures.begin(), out.figures.end());
}

// "{host}" in an argument becomes the host end of the container's link.
Result<std::vector<std::string>> resolve_command(std::vector<std::string> argv, Container& c) {
    static const std::string kHost = "{host}";
    std::optional<std::string> host;
    for (auto& a : argv) {
        for (auto pos = a.find(kHost); pos != std::string::npos; pos = a.find(kHost, pos)) {
            if (!host) {
                auto h = c.host_end();
                if (!h) return fail(std::move(h.error()));
                host = *h;
            }
            a.replace(pos, kHost.size(), *host);
            pos += host->size();
        }
    }
    return argv;
}

// A workload that measures a whole run itself (throughput): no phases, its figure only.
RunRecord run_whole(Driver& driver, const Workload& workload, const std::string& param, const ContainerSpec& spec) {
    RunRecord rec;
    auto out = workload.measure(driver, spec, param);
    if (!out) {
        rec.status = interrupted() ? RunStatus::Interrupted : RunStatus::Error;
        rec.error = out.error().message();
    } else {
        set_outcome(rec, *out);
    }
    return rec;
}

// One run through the five phases. Whatever fails, the container is stopped and cleaned before
// this returns (its destructor is the last resort).
RunRecord run_once(Driver& driver, const Workload& workload, const std::string& param, ContainerSpec spec,
                   const RunOptions& opts) {
    RunRecord rec;
    auto fail_with = [&](RunStatus status, const Error& e) {
        rec.status = status;
        rec.error = e.message();
    };
    if (auto s = workload.prepare(spec, param); !s) {
        fail_with(RunStatus::Error, s.error());
        return rec;
    }
    auto t0 = Clock::now();
    auto c = driver.create(spec);
    auto tc = Clock::now();
    kill_point("create");
    if (!c) {
        fail_with(interrupted() ? RunStatus::Interrupted : RunStatus::Error, c.error());
        return rec;
    }
    rec.create_ms = ms(t0, tc);
    std::unique_ptr<Container> container = std::move(*c);
    auto finish = [&] {
        // Stop and clean are timed even after a failure: they are part of what the engine costs.
        auto a = Clock::now();
        auto st = container->stop();
        auto b = Clock::now();
        kill_point("stop");
        auto cl = container->clean();
        auto d = Clock::now();
        kill_point("clean");
        if (st) rec.stop_ms = ms(a, b);
        if (cl) rec.clean_ms = ms(b, d);
        if (rec.status == RunStatus::Ok && (!st || !cl)) fail_with(RunStatus::Error, !st ? st.error() : cl.error());
    };
    if (auto s = container->start(); !s) {
        fail_with(interrupted() ? RunStatus::Interrupted : RunStatus::Error, s.error());
        finish();
        return rec;
    }
    auto ts = Clock::now();
    kill_point("start");
    rec.start_ms = ms(tc, ts);
    auto argv = resolve_command(workload.command(param), *container);
    if (!argv) {
        fail_with(RunStatus::Error, argv.error());
        finish();
        return rec;
    }
    auto te0 = Clock::now();  // resolving "{host}" may ask the engine: not part of any phase
    auto r = container->exec(*argv, opts.timeout);
    auto te = Clock::now();
    kill_point("exec");
    if (!r) {
        fail_with(interrupted() ? RunStatus::Interrupted : RunStatus::Error, r.error());
    } else {
        rec.exec_ms = ms(te0, te);
        if (r->timed_out) {
            rec.status = RunStatus::Timeout;
            rec.error = "command timed out after " + std::to_string(opts.timeout.count()) + " ms";
        } else if (r->oom_killed) {
            rec.status = RunStatus::Oom;
            rec.error = "out of memory: " + r->describe();
        } else if (auto out = workload.check(*r, param); !out) {
            fail_with(RunStatus::Error, out.error());
        } else if (workload.awaits_response()) {
            auto resp = workload.await_response(*container, param, opts.timeout);
            auto tr = Clock::now();
            if (!resp) {
                fail_with(interrupted() ? RunStatus::Interrupted : RunStatus::Error, resp.error());
            } else {
                rec.response_ms = ms(te, tr);
                set_outcome(rec, *resp);
                if (workload.reports_ready())  // create..first answer, the phases' sum
                    rec.figures["ready_ms"] = *rec.create_ms + *rec.start_ms + *rec.exec_ms + *rec.response_ms;
            }
        } else {
            set_outcome(rec, *out);
        }
    }
    finish();
    return rec;
}

// A run's spec: the options', with the dataset's mounts and the workload setup's.
ContainerSpec run_spec(std::string name, const RunOptions& opts, const std::filesystem::path& rootfs,
                       const std::vector<BindMount>& data, const std::vector<BindMount>& setup) {
    ContainerSpec spec;
    spec.name = std::move(name);
    spec.image = opts.image;
    spec.rootfs = rootfs;
    spec.timeout = opts.timeout;
    spec.mounts = data;
    spec.mounts.insert(spec.mounts.end(), setup.begin(), setup.end());
    spec.seccomp = opts.seccomp;
    spec.userns = opts.userns;
    return spec;
}

// Why an image is too large for a driver that holds it in RAM; empty when it fits.
std::string too_large(const Capabilities& caps, const std::string& image, const std::filesystem::path& tar) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(tar, ec);
    if (caps.max_image_bytes == 0 || ec || size <= caps.max_image_bytes) return "";
    return "the " + image + " image (" + std::to_string(size >> 20) + " MB) is larger than it can hold (" +
           std::to_string(caps.max_image_bytes >> 20) + " MB: " + caps.max_image_why + ")";
}

// The workload's own untimed step in a container of the driver (checkpoint: the dump), once per
// parameter, when a run is left to do.
Result<Workload::Setup> workload_setup(Driver& driver, const Workload& workload, const std::string& param,
                                       const RunOptions& opts, const std::filesystem::path& rootfs,
                                       const std::vector<BindMount>& mounts) {
    if (interrupted() || (opts.warmup_done >= opts.warmup && opts.runs_done >= opts.runs)) return Workload::Setup{};
    return workload.setup(driver, run_spec(owned_name("setup"), opts, rootfs, mounts, {}), param);
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;  // no SA_RESTART: blocking waits return EINTR
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
}

bool interrupted() {
    return g_signal != 0;
}

Result<std::filesystem::path> image_rootfs(const std::filesystem::path& images_dir, const std::string& image) {
    auto rootfs = images_dir / image / "rootfs";
    if (!std::filesystem::is_directory(rootfs / "bin"))
        return fail_msg("image '" + image + "' is not built (no " + rootfs.string() +
                        "): build it with `cmake --build build --target " +
                        (image == "minimal" ? "images" : "image-" + image) + "`");
    return rootfs;
}

Result<std::vector<RunRecord>> run_workload(Driver& driver, const Probe& probe, const Workload& workload,
                                            const std::string& param, const RunOptions& given, CsvSink& sink,
                                            const Progress& progress) {
    RunOptions opts = given;
    if (!workload.image().empty()) opts.image = workload.image();  // the service workloads' own image
    auto rootfs = image_rootfs(opts.images_dir, opts.image);
    if (!rootfs) return fail(std::move(rootfs.error()));
    Candidate cand = opts.candidate ? *opts.candidate
                                    : Candidate{driver.name(),
                                                probe.runtime.empty() ? driver.name() : probe.runtime,
                                                probe.storage.empty() ? "default" : probe.storage,
                                                opts.image,
                                                cgroup_version(),
                                                opts.userns ? "userns" : "rootful"};  // userns: root mapped
    auto stamp = [&](RunRecord rec, int iteration, bool warm) {
        rec.run_id = opts.run_id;
        rec.time = utc_now();
        rec.host = opts.host;
        rec.candidate = cand;
        rec.workload = workload.name();
        rec.param = param;
        rec.iteration = iteration;
        rec.warmup = warm;
        return rec;
    };
    auto single = [&](RunStatus status, const std::string& why) -> Result<std::vector<RunRecord>> {
        RunRecord rec;
        rec.status = status;
        rec.error = why;
        rec = stamp(rec, 0, false);
        if (auto s = sink.write(rec); !s) return fail(std::move(s.error()));
        return std::vector<RunRecord>{rec};
    };
    // A workload this driver or image cannot run is one skipped row with the reason, never a fake figure.
    std::string why = too_large(driver.capabilities(), opts.image, rootfs->parent_path() / (opts.image + ".tar"));
    if (why.empty()) why = workload.unsupported(driver.capabilities(), *rootfs);
    if (!why.empty())
        return single(RunStatus::Skipped, driver.name() +
                                              (cand.runtime != driver.name() ? " with " + cand.runtime : "") +
                                              " cannot run " + workload.name() + ": " + why);
    // The dataset (untimed). If it cannot be made, that is one error row and the caller goes on.
    auto mounts = workload.data(param, opts.data_dir, progress.on_data);
    if (!mounts) return single(RunStatus::Error, mounts.error().message());
    {
        ContainerSpec base;
        base.name = owned_name("prepare");
        base.image = opts.image;
        base.rootfs = *rootfs;
        base.userns = opts.userns;
        if (auto s = driver.prepare(base); !s) return fail(std::move(s.error()).wrap("prepare " + driver.name()));
    }
    auto setup = workload_setup(driver, workload, param, opts, *rootfs, *mounts);
    if (!setup) return single(interrupted() ? RunStatus::Interrupted : RunStatus::Error, setup.error().message());
    std::vector<RunRecord> out;
    const int total = opts.warmup + opts.runs;
    int consecutive_errors = opts.consecutive_errors;
    for (int k = 0; k < total && !interrupted() && consecutive_errors < opts.max_consecutive_errors; ++k) {
        bool warm = k < opts.warmup;
        if (warm ? k < opts.warmup_done : k - opts.warmup < opts.runs_done) continue;  // recorded before a resume
        auto t_begin = Clock::now();
        if (progress.on_run) progress.on_run(k + 1, total, warm);
        const ContainerSpec spec = run_spec(owned_name(std::to_string(k)), opts, *rootfs, *mounts, setup->mounts);
        RunRecord once = workload.measures_itself_with(driver.capabilities())
                             ? run_whole(driver, workload, param, spec)
                             : run_once(driver, workload, param, spec, opts);
        RunRecord rec = stamp(once, warm ? k + 1 : k - opts.warmup + 1, warm);
        if (rec.status == RunStatus::Ok) rec.figures.insert(setup->figures.begin(), setup->figures.end());
        if (interrupted() && rec.status != RunStatus::Ok) rec.status = RunStatus::Interrupted;
        if (auto s = sink.write(rec); !s) return fail(std::move(s.error()));
        if (!workload.measures_itself_with(driver.capabilities())) {
            rec.wall_ms = ms(t_begin, Clock::now());
            double phases = 0;
            for (const auto& p : {rec.create_ms, rec.start_ms, rec.exec_ms, rec.response_ms, rec.stop_ms, rec.clean_ms})
                phases += p.value_or(0);
            rec.overhead_ms = std::max(0.0, *rec.wall_ms - phases);
        }
        consecutive_errors = rec.status == RunStatus::Ok ? 0 : consecutive_errors + 1;
        out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace ctrbench
