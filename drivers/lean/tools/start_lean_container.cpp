// start_lean_container NAME ROOTFS_ABS_PATH COMMAND_ABS_PATH [ARGS...]   (seed 000's usage)
// Runs COMMAND in a lean container built on ROOTFS and exits with its exit status.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/lean/cgroup.h"
#include "drivers/lean/container.h"

using namespace ctrbench;

namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) {
    g_interrupted = 1;
}

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "start_lean_container: %s\n", msg.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::printf(
            "usage: start_lean_container NAME ROOTFS_ABS_PATH COMMAND_ABS_PATH [ARGS...]\n"
            "Runs COMMAND (an absolute path inside ROOTFS) in a lean container: new mount, PID, UTS,\n"
            "IPC, network and cgroup namespaces, an overlay over ROOTFS discarded at exit, its own\n"
            "/proc and /dev, hostname NAME, 1 CPU, 1 GiB memory, 1024 pids, Docker's default\n"
            "capabilities. Exits with COMMAND's exit status (128+N if killed by signal N). Needs root.\n");
        return 0;
    }
    if (argc < 4) return usage_error("usage: start_lean_container NAME ROOTFS_ABS_PATH COMMAND_ABS_PATH [ARGS...]");
    std::string name = argv[1], rootfs = argv[2], command = argv[3];
    if (rootfs.empty() || rootfs.front() != '/')
        return usage_error("ROOTFS_ABS_PATH must be an absolute path, got '" + rootfs + "'");
    if (command.empty() || command.front() != '/')
        return usage_error("COMMAND_ABS_PATH must be an absolute path inside the rootfs, got '" + command + "'");
    if (::geteuid() != 0) {
        std::fprintf(stderr, "start_lean_container: must run as root (namespaces, mounts and cgroups need it)\n");
        return 1;
    }
    ContainerSpec defaults;  // the project's default limits and environment
    defaults.name = name;
    defaults.init = {command};
    if (auto s = validate(defaults); !s) return usage_error(s.error().message());

    lean::Config cfg;
    cfg.name = name;
    cfg.rootfs = rootfs;
    cfg.argv.assign(argv + 3, argv + argc);
    cfg.env = defaults.env;
    cfg.inherit_stdio = true;
    cfg.writable_bytes = defaults.limits.writable_bytes;
    if (auto s = lean::check_config(cfg); !s) return usage_error(s.error().message());

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);

    auto layout = discover_cgroups();
    if (!layout) return std::fprintf(stderr, "start_lean_container: %s\n", layout.error().message().c_str()), 1;
    auto pool = lean::CgroupPool::open(*layout);
    if (!pool) return std::fprintf(stderr, "start_lean_container: %s\n", pool.error().message().c_str()), 1;
    auto cg = (*pool)->acquire(defaults.limits);
    if (!cg) return std::fprintf(stderr, "start_lean_container: %s\n", cg.error().message().c_str()), 1;
    auto c = lean::Sandbox::create(cfg, *cg, /*wait_for_start=*/false);
    if (!c) return std::fprintf(stderr, "start_lean_container: %s\n", c.error().message().c_str()), 1;
    // A Ctrl-C before the wait began ends it at once (during it, the wait returns EINTR).
    auto r = g_interrupted ? Result<ExecResult>(fail_sys("wait", EINTR)) : (*c)->wait();
    (void)(*c)->kill();
    c->reset();
    (void)(*pool)->release(*cg);
    if (!r) {
        bool interrupted = r.error().err() == EINTR && g_interrupted;
        if (interrupted) return std::fprintf(stderr, "start_lean_container: interrupted, container killed\n"), 130;
        return std::fprintf(stderr, "start_lean_container: %s\n", r.error().message().c_str()), 1;
    }
    if (r->oom_killed)
        std::fprintf(stderr, "start_lean_container: a process was killed by the memory limit (out of memory)\n");
    return r->signal ? 128 + r->signal : r->exit_code;
}
