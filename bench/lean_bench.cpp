// Google Benchmark of the lean runtime's hot path: create -> the container execs /bin/true -> exit
// -> wait -> cgroup back to the pool, against the same clone + exec + wait without a container, and
// with the container's namespaces but nothing else.
// Needs root and the minimal image. Run: build/bench/lean_bench
#include <benchmark/benchmark.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/lean/cgroup.h"
#include "drivers/lean/container.h"

using namespace ctrbench;

namespace {

const std::string kRootfs = std::string(CTRBENCH_IMAGES_DIR) + "/minimal/rootfs";

void lean_create_exit(benchmark::State& state, bool net) {
    if (::geteuid() != 0) return state.SkipWithError("needs root");
    auto layout = discover_cgroups();
    if (!layout) return state.SkipWithError(layout.error().message().c_str());
    auto pool = lean::CgroupPool::open(*layout);
    if (!pool) return state.SkipWithError(pool.error().message().c_str());
    lean::Config cfg;
    cfg.name = "ctrbench-bench";
    cfg.rootfs = kRootfs;
    cfg.argv = {"/bin/true"};
    cfg.own_netns = net;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop
        auto cg = (*pool)->acquire(Limits{});
        auto c = lean::Sandbox::create(cfg, *cg, false);
        if (!c) return state.SkipWithError(c.error().message().c_str());
        auto r = (*c)->wait();
        c->reset();
        (void)(*pool)->release(*cg);
        if (!r || !r->ok()) return state.SkipWithError("container did not exit 0");
    }
}

void BM_LeanCreateExit(benchmark::State& state) {
    lean_create_exit(state, false);
}
void BM_LeanCreateExitWithNetns(benchmark::State& state) {
    lean_create_exit(state, true);
}

int bare_child(void* arg) {
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    char* const envp[] = {nullptr};
    ::execve(static_cast<const char*>(arg), argv, envp);
    ::_exit(127);
}

// `ns_flags` 0: any process; the container's namespaces: what the kernel charges for them alone,
// the baseline of what the lean runtime's own setup (rootfs, cgroup, /proc, /dev) adds.
void clone_exec_wait(benchmark::State& state, int ns_flags) {
    std::string bin = kRootfs + "/bin/true";
    alignas(64) static char stack[64 * 1024];
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop
        int pid = ::clone(bare_child, stack + sizeof stack, ns_flags | CLONE_VM | CLONE_VFORK | SIGCHLD, bin.data());
        int st = 0;
        ::waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return state.SkipWithError("bare exec failed");
    }
}

void BM_BareCloneExecWait(benchmark::State& state) {
    clone_exec_wait(state, 0);
}
void BM_NamespacedCloneExecWait(benchmark::State& state) {
    if (::geteuid() != 0) return state.SkipWithError("needs root");
    clone_exec_wait(state, lean::namespace_flags(false) | CLONE_NEWCGROUP);
}

}  // namespace

BENCHMARK(BM_BareCloneExecWait)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NamespacedCloneExecWait)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LeanCreateExit)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LeanCreateExitWithNetns)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
