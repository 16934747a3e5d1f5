#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace ctrbench {

std::string ExecResult::describe() const {
    std::string s = timed_out ? "timed out"
                    : signal  ? "killed by signal " + std::to_string(signal)
                              : "exit " + std::to_string(exit_code);
    if (oom_killed) s += " (out of memory)";
    return s;
}

std::string ExecResult::describe(const std::vector<std::string>& argv) const {
    std::string cmd;
    for (std::size_t i = 0; i < argv.size() && i < 4; ++i) cmd += (i ? " " : "") + argv[i];
    std::string msg = err.empty() ? out : err;
    auto nl = msg.find('\n');
    if (nl != std::string::npos) msg = msg.substr(0, nl);
    return cmd + ": " + describe() + (msg.empty() ? "" : ": " + msg.substr(0, 300));
}

void set_exit_status(ExecResult& r, int st) {
    if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
}

std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t pos = 0;
    while (pos <= p.size()) {
        auto next = p.find(':', pos);
        std::string dir = p.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        std::string cand = dir + "/" + name;
        if (!dir.empty() && ::access(cand.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(cand)) return cand;
        if (next == std::string::npos) break;
        pos = next + 1;
    }
    return "";
}

int reap_traced_threads(pid_t pid) {
    int reaped = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        const pid_t tid = static_cast<pid_t>(std::atoi(e.path().filename().c_str()));
        if (tid <= 0 || tid == pid) continue;
        int st = 0;
        reaped += ::waitpid(tid, &st, __WALL | WNOHANG) == tid;
    }
    return reaped;
}

namespace {

// Ctrl-C and its kin are held back while a wait loop does its own work between polls and let in
// only inside the poll (ppoll with the caller's mask): one that comes between two polls ends the
// next poll with EINTR instead of being handled unseen while the loop waits on.
class SignalWindow {
public:
    SignalWindow() {
        sigset_t held;
        sigemptyset(&held);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held, sig);
        ::pthread_sigmask(SIG_BLOCK, &held, &caller_);
    }
    ~SignalWindow() { ::pthread_sigmask(SIG_SETMASK, &caller_, nullptr); }
    SignalWindow(const SignalWindow&) = delete;
    SignalWindow& operator=(const SignalWindow&) = delete;
    int poll(pollfd* fds, nfds_t n, long long ms) const {
        timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
        return ::ppoll(fds, n, &ts, &caller_);
    }

private:
    sigset_t caller_{};
};

}  // namespace

bool await_exit(pid_t pid, int pidfd, std::chrono::steady_clock::time_point deadline) {
    const SignalWindow window;
    for (;;) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return false;
        }
        pollfd p{pidfd, POLLIN, 0};
        int n = window.poll(&p, 1, std::min<long long>(left, 20));
        if (n > 0) return true;  // the usual case: at once, without a tick
        if (n < 0) return false;
        reap_traced_threads(pid);
    }
}

int wait_reaping_tracees(pid_t pid, int pidfd) {
    while (!await_exit(pid, pidfd) && errno == EINTR) {
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
}

namespace {

void append_capped(std::string& into, const char* buf, ssize_t n) {
    std::size_t room = ExecResult::kMaxOutput - std::min(into.size(), ExecResult::kMaxOutput);
    into.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
}

// One read: false once the pipe is at EOF (or broken); true while it may hold more.
bool drain(int fd, std::string& into) {
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) return errno == EAGAIN || errno == EINTR;  // errno read at once, nothing came between
    if (n == 0) return false;
    append_capped(into, buf, n);
    return true;
}

// After the exit: what is buffered, without waiting for writers the command left behind.
void drain_buffered(int fd, bool open, std::string& into) {
    if (!open || fd < 0) return;
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    for (;;) {
        char buf[65536];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        append_capped(into, buf, n);
    }
}

}  // namespace

Result<ExecResult> collect(ChildProcess& child, std::chrono::milliseconds timeout) {
    ExecResult r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool out_open = bool(child.out), err_open = bool(child.err), exited = false;
    int poll_errno = 0;
    const SignalWindow window;
    while (!exited) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            break;
        }
        pollfd fds[3] = {{child.pidfd.get(), POLLIN, 0},
                         {out_open ? child.out.get() : -1, POLLIN, 0},
                         {err_open ? child.err.get() : -1, POLLIN, 0}};
        // A tick every 100 ms: a thread of the command that made us its tracer holds the command's
        // end until we reap it.
        int n = window.poll(fds, 3, std::min<long long>(left.count() + 1, 100));
        if (n < 0) {  // EINTR: a signal (Ctrl-C) for the harness; anything else would repeat forever
            poll_errno = errno;
            break;
        }
        if (n == 0) reap_traced_threads(child.pid);
        if (fds[1].revents) out_open = drain(child.out.get(), r.out);
        if (fds[2].revents) err_open = drain(child.err.get(), r.err);
        if (fds[0].revents) exited = true;
    }
    if (!exited) ::kill(child.own_group ? -child.pid : child.pid, SIGKILL);
    const int st = wait_reaping_tracees(child.pid, child.pidfd.get());
    child.pidfd.reset();
    drain_buffered(child.out.get(), out_open, r.out);
    drain_buffered(child.err.get(), err_open, r.err);
    if (poll_errno) return fail_sys("wait for process " + std::to_string(child.pid), poll_errno);
    if (!r.timed_out) set_exit_status(r, st);
    return r;
}

Result<ExecResult> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    if (argv.empty()) return fail_msg("no command given");
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return fail_sys("pipe2");
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]), ::close(out[1]);
        return fail_sys("pipe2");
    }
    ChildProcess child;
    child.out.reset(out[0]);
    child.err.reset(err[0]);
    child.own_group = true;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills helpers it started too, and the terminal's Ctrl-C
    // reaches only the harness, which then cleans up in order.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawnp(&child.pid, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) return fail_sys("run " + argv[0], rc);
    child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
    if (!child.pidfd) {  // without it the exit is never seen and every command would end as a timeout
        int e = errno;
        ::kill(-child.pid, SIGKILL);
        while (::waitpid(child.pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return fail_sys("pidfd_open for " + argv[0], e);
    }
    auto r = collect(child, timeout);
    if (!r) return fail(std::move(r.error()).wrap("run " + argv[0]));
    return r;
}

Result<ExecResult> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    auto r = run_process(argv, timeout);
    if (!r) return r;
    if (!r->ok()) return fail_msg(r->describe(argv));
    return r;
}

}  // namespace ctrbench
