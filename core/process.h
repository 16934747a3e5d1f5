// Processes: the one helper that spawns a command, waits for it with a deadline and captures its
// output. Every driver whose native interface is a CLI (the OCI runtimes, podman, ctr, ansible) uses
// run_process; the lean runtime's exec starts its command its own way (inside the container's
// namespaces) and then waits for it with the same collect().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"

namespace ctrbench {

// How a command ended and what it said.
struct ExecResult {
    int exit_code = -1;  // valid when signal == 0 and !timed_out
    int signal = 0;      // the signal that killed the command, 0 if it exited
    bool timed_out = false;
    bool oom_killed = false;  // the container's memory limit killed a process during this exec
    std::string out;          // stdout, capped at ExecResult::kMaxOutput
    std::string err;          // stderr, capped likewise
    static constexpr std::size_t kMaxOutput = 1 << 20;

    bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
    // "exit 3", "killed by signal 9 (out of memory)", "timed out", ...
    std::string describe() const;
    // "crun start x: exit 1: <first line of stderr>"
    std::string describe(const std::vector<std::string>& argv) const;
};

// A started child of this process: its pid, a pidfd for it, the read ends of its stdout and stderr.
struct ChildProcess {
    pid_t pid = -1;
    UniqueFd pidfd, out, err;
    bool own_group = false;  // it leads its own process group: a timeout kills the whole group
};

// Waits for `child` at most `timeout`, reading its output meanwhile; on timeout it is killed
// (timed_out set). Reaps it. Once it has exited, output still buffered is read, but a process it
// left behind holding the pipes does not hold the wait up. An Error only when waiting itself failed
// (a signal interrupted it: Ctrl-C).
Result<ExecResult> collect(ChildProcess& child, std::chrono::milliseconds timeout);

// A thread of a child of ours that called PTRACE_TRACEME has us as its tracer: when it exits it stays
// a zombie until we reap it, and until then its process never ends (nor, for a PID 1, its whole
// PID namespace). This reaps such threads of `pid`; returns how many it reaped.
int reap_traced_threads(pid_t pid);
// Waits until the process behind `pidfd` (our child `pid`) has ended, at most until `deadline`,
// reaping its traced threads in ticks of 20 ms meanwhile. True once it has ended; false at the
// deadline (errno ETIMEDOUT) or when a signal cut the wait short (errno EINTR). It is not reaped.
bool await_exit(pid_t pid, int pidfd,
                std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
// Waits for our child `pid` to end (await_exit, signals retried) and reaps it; its wait status.
int wait_reaping_tracees(pid_t pid, int pidfd);

// Exit code and signal from a waitpid status.
void set_exit_status(ExecResult& r, int wait_status);

// Spawns argv (argv[0] looked up on PATH) in its own process group, stdin from /dev/null, and
// collects it. An Error only when it could not be started or waited for.
Result<ExecResult> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Like run_process, but a non-zero exit is an Error carrying the tool's own message.
Result<ExecResult> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// The full path of `name` on PATH, or "" if absent.
std::string find_program(const std::string& name);

}  // namespace ctrbench
