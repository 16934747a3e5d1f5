#include "drivers/common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

extern char** environ;

namespace ctrbench {

std::string ProcessResult::describe(const std::vector<std::string>& argv) const {
    std::string cmd;
    for (std::size_t i = 0; i < argv.size() && i < 4; ++i) cmd += (i ? " " : "") + argv[i];
    std::string how = timed_out ? "timed out"
                      : signal  ? "killed by signal " + std::to_string(signal)
                                : "exit " + std::to_string(exit_code);
    std::string msg = err.empty() ? out : err;
    auto nl = msg.find('\n');
    if (nl != std::string::npos) msg = msg.substr(0, nl);
    return cmd + ": " + how + (msg.empty() ? "" : ": " + msg.substr(0, 300));
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

Result<ProcessResult> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    if (argv.empty()) return fail_msg("no command given");
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return fail_sys("pipe2");
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]), ::close(out[1]);
        return fail_sys("pipe2");
    }
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
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
        ::close(out[0]), ::close(err[0]);
        return fail_sys("run " + argv[0], rc);
    }
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {  // without it the exit is never seen and every command would end as a timeout
        int e = errno;
        ::kill(-pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        ::close(out[0]), ::close(err[0]);
        return fail_sys("pidfd_open for " + argv[0], e);
    }
    ProcessResult r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool out_open = true, err_open = true, exited = false;
    // One read: true while the pipe may hold more (data read, or a signal cut the read short).
    auto drain = [](int fd, std::string& into) {
        char buf[16384];
        ssize_t n = ::read(fd, buf, sizeof buf);
        const int e = n < 0 ? errno : 0;  // taken at once, before anything else can change errno
        if (n > 0 && into.size() < ExecResult::kMaxOutput) into.append(buf, static_cast<std::size_t>(n));
        return n > 0 || e == EINTR;
    };
    int poll_errno = 0;
    while (!exited || out_open || err_open) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = !exited;
            break;
        }
        pollfd fds[3] = {
            {exited ? -1 : pidfd, POLLIN, 0}, {out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
        int n = ::poll(fds, 3, static_cast<int>(left.count()) + 1);
        if (n < 0) {  // EINTR: a signal (Ctrl-C) for the harness; anything else would repeat forever
            poll_errno = errno;
            break;
        }
        if (fds[1].revents) out_open = drain(out[0], r.out);
        if (fds[2].revents) err_open = drain(err[0], r.err);
        if (fds[0].revents) exited = true;
        // A daemon the tool left behind may hold the pipes open: once the tool is gone, stop waiting for them.
        if (exited && (out_open || err_open)) {
            for (int fd : {out[0], err[0]}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
            while (out_open && drain(out[0], r.out)) {
            }
            while (err_open && drain(err[0], r.err)) {
            }
            break;
        }
    }
    if (!exited) ::kill(-pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    ::close(pidfd);
    ::close(out[0]);
    ::close(err[0]);
    if (poll_errno) return fail_sys("run " + argv[0], poll_errno);
    if (!r.timed_out) {
        if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
        if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
    }
    return r;
}

Result<ProcessResult> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    auto r = run_process(argv, timeout);
    if (!r) return r;
    if (!r->ok()) return fail_msg(r->describe(argv));
    return r;
}

}  // namespace ctrbench
