// benchmark_lean_container SECONDS [--procs N] ...   (seed 000's microbenchmark)
// The critical path: set up a container, the container exits at once (exec of a static /bin/true),
// the parent waits. Prints each second in the seed's format, then the total, then the same path
// without namespaces (bare clone+exec+wait) measured in the same run, and the ratio.
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "drivers/lean/cgroup.h"
#include "drivers/lean/container.h"

#ifndef CTRBENCH_IMAGES_DIR
#define CTRBENCH_IMAGES_DIR "/var/lib/ctrbench/images"
#endif

using namespace ctrbench;
using Clock = std::chrono::steady_clock;

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Tally {
    long count = 0;
    double seconds = 0;
    std::vector<double> latencies_ms;
};

// One worker: containers back to back for `seconds`, a seed-format line each second.
// `prefix` nullptr: quiet (a baseline).
Result<Tally> run_lean(const lean::Config& cfg, double seconds, const char* prefix) {
    auto layout = discover_cgroups();
    if (!layout) return fail(std::move(layout.error()));
    auto pool = lean::CgroupPool::open(*layout);
    if (!pool) return fail(std::move(pool.error()));
    Limits limits;
    Tally total;
    const auto start = Clock::now();
    auto window = start;
    long in_window = 0;
    while (!g_stop && ms_since(start) < seconds * 1000) {
        auto t = Clock::now();
        auto cg = (*pool)->acquire(limits);
        if (!cg) return fail(std::move(cg.error()));
        auto c = lean::Sandbox::create(cfg, *cg, /*wait_for_start=*/false);
        if (!c) return fail(std::move(c.error()));
        auto r = (*c)->wait();
        c->reset();
        if (auto s = (*pool)->release(*cg); !s) return fail(std::move(s.error()));
        if (!r) return fail(std::move(r.error()));
        if (!r->ok()) return fail_msg("the container's /bin/true ended with " + r->describe());
        total.latencies_ms.push_back(ms_since(t));
        ++in_window;
        ++total.count;
        double w = ms_since(window) / 1000;
        if (w >= 1.0) {
            if (prefix)
                std::printf("%sstart %ld lean containers in %f second(s), latency per container %fms\n", prefix,
                            in_window, w, w * 1000 / static_cast<double>(in_window));
            std::fflush(stdout);
            window = Clock::now();
            in_window = 0;
        }
    }
    total.seconds = ms_since(start) / 1000;
    return total;
}

struct BareExec {
    const char* binary;
    char* const* argv;
    char* const* envp;
};

int bare_child(void* arg) {
    auto* b = static_cast<BareExec*>(arg);
    ::execve(b->binary, b->argv, b->envp);
    ::_exit(127);
}

// The baselines: the same static binary, clone + execve + waitpid, cloned the way the lean runtime
// clones (CLONE_VM | CLONE_VFORK), with no namespaces (`ns_flags` 0: what any process costs) and
// with the container's own namespaces (what the kernel charges for them, before anything ctrbench
// does: cgroup, overlay, /proc, /dev, pivot_root). The second ratio is the one ctrbench can act on.
Result<Tally> run_bare(const std::string& binary, double seconds, int ns_flags) {
    Tally t;
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    char* const envp[] = {nullptr};
    BareExec b{binary.c_str(), argv, envp};
    alignas(64) static char stack[64 * 1024];
    const auto start = Clock::now();
    while (!g_stop && ms_since(start) < seconds * 1000) {
        auto t0 = Clock::now();
        int pid = ::clone(bare_child, stack + sizeof stack, ns_flags | CLONE_VM | CLONE_VFORK | SIGCHLD, &b);
        if (pid < 0) return fail_sys("clone");
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return fail_msg("bare exec of " + binary + " failed");
        t.latencies_ms.push_back(ms_since(t0));
        ++t.count;
    }
    t.seconds = ms_since(start) / 1000;
    return t;
}

// Several worker processes at once (the seed's scalability table): each sends its count, time
// and median latency back through one pipe.
struct WorkerTotals {
    long count = 0;
    double seconds = 0, throughput = 0;
    std::vector<double> median_latencies_ms;  // one per worker
};

Result<WorkerTotals> run_workers(const lean::Config& cfg, double seconds, int procs) {
    WorkerTotals out;
    int fds[2];
    if (::pipe(fds) != 0) return fail_sys("pipe");
    std::vector<pid_t> workers;
    for (int k = 0; k < procs; ++k) {
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            char prefix[32];
            std::snprintf(prefix, sizeof prefix, "@worker%-3d ", k);
            auto t = run_lean(cfg, seconds, prefix);
            if (!t) {
                std::fprintf(stderr, "benchmark_lean_container: worker %d: %s\n", k, t.error().message().c_str());
                ::_exit(1);
            }
            double rec[3] = {static_cast<double>(t->count), t->seconds, median(t->latencies_ms)};
            (void)!::write(fds[1], rec, sizeof rec);
            std::fflush(stdout);
            ::_exit(0);
        }
        workers.push_back(pid);
    }
    ::close(fds[1]);
    double rec[3];
    while (::read(fds[0], rec, sizeof rec) == sizeof rec) {
        out.count += static_cast<long>(rec[0]);
        out.seconds = std::max(out.seconds, rec[1]);
        out.throughput += rec[0] / rec[1];
        out.median_latencies_ms.push_back(rec[2]);
    }
    ::close(fds[0]);
    int failed = 0;
    for (pid_t w : workers) {
        int st = 0;
        ::waitpid(w, &st, 0);
        failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    if (failed) return fail_msg(std::to_string(failed) + " worker(s) failed");
    return out;
}

// What the seccomp filter costs: the same container with and without it, in alternating half-second
// blocks (so that drift on a shared host falls on both), `seconds` each.
Status print_seccomp_cost(lean::Config cfg, double seconds) {
    std::vector<double> with, without;
    for (double done = 0; done < seconds && !g_stop; done += 0.5)
        for (bool on : {true, false}) {
            cfg.seccomp = on;
            auto t = run_lean(cfg, 0.5, nullptr);
            if (!t) return fail(std::move(t.error()).wrap(on ? "seccomp baseline" : "unconfined baseline"));
            auto& into = on ? with : without;
            into.insert(into.end(), t->latencies_ms.begin(), t->latencies_ms.end());
        }
    double on = median(with), off = median(without);
    std::printf(
        "seccomp: median %.3fms with Docker's default profile (%zu runs), %.3fms unconfined (%zu runs): "
        "ratio %.3fx, %+.1f%% (the project aims at 5%% or less)\n",
        on, with.size(), off, without.size(), off > 0 ? on / off : 0.0, off > 0 ? (on / off - 1) * 100 : 0.0);
    return {};
}

// The two baselines measured in the same run (a bare process; the same clone into the container's
// namespaces) and the ratios of the lean median to them.
Status print_baselines(const std::string& rootfs, double seconds, bool net, bool read_only, double lean_med) {
    const int ns = lean::namespace_flags(net) | CLONE_NEWCGROUP;  // exactly the container's set
    auto bare = run_bare(rootfs + "/bin/true", seconds, 0);
    if (!bare) return fail(std::move(bare.error()).wrap("baseline"));
    auto nsd = run_bare(rootfs + "/bin/true", seconds, ns);
    if (!nsd) return fail(std::move(nsd.error()).wrap("namespaced baseline"));
    double bare_med = median(bare->latencies_ms), ns_med = median(nsd->latencies_ms);
    const char* set = net ? "mnt, pid, uts, ipc, cgroup, net" : "mnt, pid, uts, ipc, cgroup";
    std::printf(
        "baseline: bare clone(CLONE_VM|CLONE_VFORK)+exec+wait of %s/bin/true, no namespaces: %ld runs, median "
        "%.3fms\n",
        rootfs.c_str(), bare->count, bare_med);
    std::printf("baseline: the same clone into new namespaces (%s), no rootfs: %ld runs, median %.3fms\n", set,
                nsd->count, ns_med);
    std::printf(
        "lean: median %.3fms per container (namespaces: %s; %s rootfs on tmpfs, cgroup, /proc, /dev, pivot_root)\n",
        lean_med, set, read_only ? "read-only bind" : "overlay");
    std::printf("namespaces cost %.3fms over a bare process (%.2fx); ctrbench's setup adds %.3fms over them\n",
                ns_med - bare_med, bare_med > 0 ? ns_med / bare_med : 0.0, lean_med - ns_med);
    std::printf(
        "ratio lean/namespaced clone: %.2fx (ctrbench's own setup: the part it can cut; the project aims at 2x or "
        "less)\n",
        ns_med > 0 ? lean_med / ns_med : 0.0);
    std::printf("ratio lean/bare: %.2fx (the whole cost of a container over a process)\n",
                bare_med > 0 ? lean_med / bare_med : 0.0);
    return {};
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): an exception ends the tool with its message, which is right here
int main(int argc, char** argv) {
    CLI::App app{
        "Seed 000's lean container microbenchmark: start-and-exit containers for SECONDS, one line per second,\n"
        "then the same binary without namespaces (bare clone+exec+wait) and the ratio of median latencies."};
    double seconds = 0;
    int procs = 1;
    double baseline_seconds = -1;
    std::string rootfs = std::string(CTRBENCH_IMAGES_DIR) + "/minimal/rootfs";
    bool net = false, read_only = false;
    std::string seccomp = "default";
    app.add_option("SECONDS", seconds, "how long to start containers")->required()->check(CLI::PositiveNumber);
    app.add_option("--procs", procs, "worker processes starting containers at once (the seed's scalability table)")
        ->check(CLI::Range(1, 256));
    app.add_option("--baseline-seconds", baseline_seconds,
                   "how long to run the bare baseline (default: min(SECONDS, 3); 0 = skip; skipped with --procs > 1)");
    app.add_option("--rootfs", rootfs, "absolute path of the rootfs; it must hold a static /bin/true")
        ->capture_default_str();
    app.add_flag("--net", net,
                 "also a network namespace (loopback only) per container; default: the seed's set "
                 "(mnt, pid, uts, ipc, plus cgroup)");
    app.add_flag("--read-only", read_only, "read-only bind of the rootfs plus a /tmp tmpfs instead of an overlay");
    app.add_option("--seccomp", seccomp,
                   "default: Docker's default seccomp profile (its cost is measured after the run); unconfined: none")
        ->check(CLI::IsMember({"default", "unconfined"}))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "benchmark_lean_container: %s\n", e.what());
        return 2;
    }
    if (::geteuid() != 0) return std::fprintf(stderr, "benchmark_lean_container: must run as root\n"), 1;
    lean::Config cfg;
    cfg.name = "ctrbench-bench";
    cfg.rootfs = rootfs;
    cfg.argv = {"/bin/true"};
    cfg.env = ContainerSpec{}.env;
    cfg.own_netns = net;
    cfg.read_only_rootfs = read_only;
    cfg.seccomp = seccomp == "default";
    if (auto s = lean::check_config(cfg); !s)
        return std::fprintf(stderr, "benchmark_lean_container: %s\n", s.error().message().c_str()), 2;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    std::vector<double> lean_lat;
    long total = 0;
    double elapsed = 0;
    if (procs == 1) {
        auto t = run_lean(cfg, seconds, "");
        if (!t) return std::fprintf(stderr, "benchmark_lean_container: %s\n", t.error().message().c_str()), 1;
        lean_lat = std::move(t->latencies_ms);
        total = t->count;
        elapsed = t->seconds;
        std::printf("total: start %ld lean containers in %f second(s)\n", total, elapsed);
    } else {
        auto w = run_workers(cfg, seconds, procs);
        if (!w) return std::fprintf(stderr, "benchmark_lean_container: %s\n", w.error().message().c_str()), 1;
        lean_lat = std::move(w->median_latencies_ms);
        total = w->count;
        elapsed = w->seconds;
        std::printf("total: start %ld lean containers in %f second(s)\n", total, elapsed);
        std::printf("throughput: %.0f containers/s with %d processes\n", w->throughput, procs);
    }
    if (g_stop) return std::fprintf(stderr, "benchmark_lean_container: interrupted\n"), 130;

    // The ratio compares one container at a time with one bare process at a time; with several
    // workers on few cores the latencies contend, so only the throughput is reported.
    if (procs > 1) baseline_seconds = 0;
    if (baseline_seconds < 0) baseline_seconds = std::min(seconds, 3.0);
    if (baseline_seconds > 0) {
        auto b = print_baselines(rootfs, baseline_seconds, net, read_only, median(lean_lat));
        if (b && cfg.seccomp) b = print_seccomp_cost(cfg, baseline_seconds);
        if (!b) return std::fprintf(stderr, "benchmark_lean_container: %s\n", b.error().message().c_str()), 1;
    }
    return 0;
}
