// The checkpoint workload's process (seed 002): it touches MB MiB of memory, waits to be dumped, and,
// once restored and woken, touches it all again and says how long that took and whether the memory
// still held what it wrote before the dump.
//   ctrbench-agent memtouch MB OUTDIR [external-unix]   prints "memtouch pid P sum S" once ready, then
//                                              leaves P waiting, listening on 127.0.0.1:7070 of its
//                                              network namespace (external-unix: with a unix socket
//                                              whose peer is outside P's tree, which CRIU cannot dump)
//   ctrbench-agent memtouch-wake P OUTDIR MS   wakes P (SIGUSR1), waits at most MS ms for its result,
//                                              prints "memtouch sum S ok|bad exec_us U listen
//                                              ok|unreachable|none"
//   ctrbench-agent service-start [--high-pid] PROGRAM ARGS...   starts PROGRAM as such a process (the
//                                              service workloads'), prints "service pid P" once it is
//                                              exec'd (--high-pid: with a pid of 1000 or more, to be dumped)
//   ctrbench-agent criu-dump P IMAGES WORK [tcp-close]   dumps P with the criu at /ctrbench/criu, prints
//                                              "dump_us U" (tcp-close: connections are dumped closed)
//   ctrbench-agent criu-restore IMAGES WORK eager|lazy [tcp-close]   restores it detached (lazy:
//                                              beside a `criu lazy-pages` daemon), prints "restore_us U
//                                              pid P" (tcp-close: of a dump made with it)
//   ctrbench-agent checkpoint-wake WORK MS    memtouch-wake of the restored P, with the restore's time
// P is a child of the command, in a session of its own, with /dev/null as its stdio and nothing else
// open: what CRIU dumps and restores without help. It takes a pid of 1000 or more (ns_last_pid where
// /proc/sys is writable, else pids used up by short-lived children), so that a container restoring it,
// whose own first pids are taken by the exec and criu, always has its pid free.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr long kPage = 4096;
constexpr pid_t kHighPid = 1000;
constexpr int kListenPort = 7070;

std::uint64_t pattern(long page) {
    return 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(page + 1);
}

long long now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int fail(const char* what) {
    std::fprintf(stderr, "ctrbench-agent: %s: %s\n", what, std::strerror(errno));
    return 1;
}

// A listening socket on 127.0.0.1:kListenPort of the container's own network namespace; -1 on failure.
int listen_tcp() {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    const int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kListenPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4) != 0) {
        ::close(s);
        return -1;
    }
    return s;
}

// After a restore: "ok" when `s` still listens and a connection to it arrives; "unreachable" when it
// listens but 127.0.0.1 does not reach it (a restored network namespace whose loopback is down);
// "none" when it no longer listens.
const char* still_listens(int s) {
    int on = 0;
    socklen_t len = sizeof on;
    if (s < 0 || ::getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0 || !on) return "none";
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kListenPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int got = connected ? ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    if (got >= 0) ::close(got);
    if (c >= 0) ::close(c);
    return got >= 0 ? "ok" : "unreachable";
}

// The waiting process: touch, say ready on `ready`, wait for SIGUSR1, touch again, write the result.
// `keep` (>= 0): a socket to keep open as fd 3 (a unix socket whose peer is outside its tree).
[[noreturn]] void touch_and_wait(long mb, const std::string& outdir, int ready, int keep) {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, nullptr);
    ::setsid();
    const long pages = mb * ((1 << 20) / kPage);
    auto* mem = static_cast<unsigned char*>(::mmap(nullptr, static_cast<std::size_t>(pages * kPage),
                                                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (mem == MAP_FAILED) _exit(fail("mmap"));
    std::uint64_t sum = 0;
    for (long p = 0; p < pages; ++p) {  // the first word of every page: each page resident
        const std::uint64_t v = pattern(p);
        std::memcpy(mem + p * kPage, &v, sizeof v);
        sum += v;
    }
    const int listening = listen_tcp();
    const std::string line = std::to_string(sum) + "\n";
    (void)!::write(ready, line.data(), line.size());
    ::close(ready);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) _exit(fail("open /dev/null"));
    // stdio on /dev/null, `keep` as fd 3, the listening socket next, and nothing else: whatever the
    // launcher left open goes (nothing CRIU would need help with). Both are moved out of the way first.
    const int kept = keep >= 0 ? ::fcntl(keep, F_DUPFD_CLOEXEC, 100) : -1;
    const int listened = listening >= 0 ? ::fcntl(listening, F_DUPFD_CLOEXEC, 100) : -1;
    for (int fd = 0; fd < 3; ++fd) ::dup2(devnull, fd);
    if (kept >= 0) ::dup2(kept, 3);
    const int sock = listened >= 0 ? (kept >= 0 ? 4 : 3) : -1;
    if (sock >= 0) ::dup2(listened, sock);
    ::close_range(sock >= 0 ? sock + 1 : (kept >= 0 ? 4 : 3), ~0U, 0);
    int sig = 0;
    while (sigwait(&usr1, &sig) != 0) {
    }
    // Restored and woken: read back what was written before the dump, then write every page again.
    const long long t0 = now_us();
    std::uint64_t seen = 0;
    for (long p = 0; p < pages; ++p) {
        std::uint64_t v = 0;
        std::memcpy(&v, mem + p * kPage, sizeof v);
        seen += v;
        v ^= 1;
        std::memcpy(mem + p * kPage, &v, sizeof v);
    }
    const long long us = now_us() - t0;
    const std::string listens = still_listens(sock);
    const std::string result = "memtouch sum " + std::to_string(seen) + (seen == sum ? " ok" : " bad") + " exec_us " +
                               std::to_string(us) + " listen " + listens + "\n";
    const std::string tmp = outdir + "/result.tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(1);
    (void)!::write(fd, result.data(), result.size());
    ::close(fd);
    _exit(::rename(tmp.c_str(), (outdir + "/result").c_str()) == 0 ? 0 : 1);
}

// The next child gets a pid of kHighPid or more (see the top of the file).
void take_high_pids() {
    if (::getpid() >= kHighPid) return;
    if (FILE* f = std::fopen("/proc/sys/kernel/ns_last_pid", "w")) {
        std::fprintf(f, "%d", kHighPid - 1);
        std::fclose(f);
    }
    // Where /proc/sys is read-only: children that exit at once use the pids up to kHighPid.
    for (pid_t last = ::getpid(); last > 0 && last < kHighPid - 1;) {
        last = ::fork();
        if (last == 0) _exit(0);
        if (last > 0) ::waitpid(last, nullptr, 0);
    }
}

}  // namespace

int memtouch(long mb, const char* outdir, bool external_unix) {
    if (mb <= 0) return std::fprintf(stderr, "ctrbench-agent: memtouch: MB must be positive\n"), 2;
    ::mkdir(outdir, 0755);  // where the woken process writes its result
    take_high_pids();
    // external-unix: the process keeps a unix socket whose peer a sibling holds, outside the tree a dump
    // takes (what CRIU refuses without --ext-unix-sk).
    int pair[2] = {-1, -1};
    if (external_unix) {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return fail("socketpair");
        const pid_t peer = ::fork();
        if (peer < 0) return fail("fork");
        if (peer == 0) {
            ::setsid();
            ::close(pair[0]);
            for (int fd = 0; fd < 3; ++fd) ::close(fd);
            ::pause();
            _exit(0);
        }
        ::close(pair[1]);
    }
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail("pipe");
    const pid_t child = ::fork();
    if (child < 0) return fail("fork");
    if (child == 0) {
        ::close(pipefd[0]);
        touch_and_wait(mb, outdir, pipefd[1], pair[0]);
    }
    ::close(pipefd[1]);
    if (pair[0] >= 0) ::close(pair[0]);
    char buf[64] = {};
    ssize_t n = ::read(pipefd[0], buf, sizeof buf - 1);
    ::close(pipefd[0]);
    if (n <= 0) {
        std::fprintf(stderr, "ctrbench-agent: memtouch: the process died before it was ready\n");
        return 1;
    }
    buf[n] = 0;
    if (char* nl = std::strchr(buf, '\n')) *nl = 0;
    std::printf("memtouch pid %d sum %s\n", static_cast<int>(child), buf);
    return 0;
}

int service_start(char** argv, bool high_pid) {
    if (high_pid) take_high_pids();
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail("pipe");
    const pid_t child = ::fork();
    if (child < 0) return fail("fork");
    if (child == 0) {
        ::close(pipefd[0]);
        ::setsid();
        const int null = ::open("/dev/null", O_RDWR);
        if (null < 0) _exit(126);
        for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // the pipe's end closes at the exec, or says why it failed
        if (::chdir("/") != 0) _exit(1);
        ::execv(argv[0], argv);
        const int err = errno;
        (void)!::write(pipefd[1], &err, sizeof err);
        _exit(127);
    }
    ::close(pipefd[1]);
    int err = 0;
    const ssize_t n = ::read(pipefd[0], &err, sizeof err);
    ::close(pipefd[0]);
    if (n == sizeof err) {
        ::waitpid(child, nullptr, 0);
        return std::fprintf(stderr, "ctrbench-agent: service-start: %s: %s\n", argv[0], std::strerror(err)), 1;
    }
    std::printf("service pid %d\n", static_cast<int>(child));
    return 0;
}

int memtouch_wake(pid_t pid, const char* outdir, long timeout_ms) {
    const std::string result = std::string(outdir) + "/result";
    if (::kill(pid, SIGUSR1) != 0) return fail("kill");
    const long long deadline = now_us() + timeout_ms * 1000;
    while (now_us() < deadline) {
        if (FILE* f = std::fopen(result.c_str(), "r")) {
            char line[128] = {};
            const bool got = std::fgets(line, sizeof line, f) != nullptr;
            std::fclose(f);
            if (got) return std::fputs(line, stdout), 0;
        }
        ::usleep(200);
    }
    std::fprintf(stderr, "ctrbench-agent: memtouch-wake: no result from pid %d within %ld ms\n", static_cast<int>(pid),
                 timeout_ms);
    return 1;
}

namespace {

constexpr const char* kCriu = "/ctrbench/criu";  // the checkpoint workload binds the host's criu here

// Runs criu with `args` (its log in `work`), waits; on failure, says the log's last errors on stderr.
int run_criu(const std::vector<std::string>& args, const std::string& work, const std::string& log,
             long long* took_us) {
    std::vector<std::string> all = {kCriu};
    all.insert(all.end(), args.begin(), args.end());
    for (const std::string& a : {std::string("-W"), work, std::string("-o"), log}) all.push_back(a);
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd < 3; ++fd) posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0);
    const long long t0 = now_us();
    pid_t pid = 0;
    const int err = posix_spawn(&pid, kCriu, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        errno = err;
        return fail("run /ctrbench/criu");
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *took_us = now_us() - t0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    std::ifstream in(work + "/" + log);
    std::string line, errors;
    // The first error is the cause (the last says only "FAILED"); criu logs RLIMIT_NOFILE as an error
    // where it cannot raise its own limit, and goes on.
    while (std::getline(in, line))
        if (errors.empty() && line.find("Error (") != std::string::npos &&
            line.find("RLIMIT_NOFILE") == std::string::npos)
            errors = line.substr(line.find("Error ("));
    std::fprintf(stderr, "ctrbench-agent: criu %s failed (%s %d): %s\n", args.front().c_str(),
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 errors.empty() ? ("see " + work + "/" + log).c_str() : errors.c_str());
    return 1;
}

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

int criu_dump(pid_t pid, const char* images, const char* work, bool tcp_close) {
    ::mkdir(work, 0755);
    long long us = 0;
    std::vector<std::string> args = {"dump", "-t", std::to_string(pid), "-D", images};
    if (tcp_close) args.emplace_back("--tcp-close");
    if (int rc = run_criu(args, work, "dump.log", &us); rc != 0) return rc;
    std::printf("dump_us %lld\n", us);
    return 0;
}

int criu_restore(const char* images, const char* work, const char* mode, bool tcp_close) {
    const bool lazy = std::strcmp(mode, "lazy") == 0;
    if (!lazy && std::strcmp(mode, "eager") != 0)
        return std::fprintf(stderr, "ctrbench-agent: criu-restore: mode must be eager or lazy, not %s\n", mode), 2;
    ::mkdir(work, 0755);
    const std::string w = work;
    long long daemon_us = 0, us = 0;
    // The lazy-pages daemon returns once its socket listens; it serves the pages as the process faults.
    if (lazy) {
        if (int rc = run_criu({"lazy-pages", "-D", images, "--daemon"}, w, "lazy-pages.log", &daemon_us); rc != 0)
            return rc;
    }
    std::vector<std::string> args = {"restore", "-D", images, "--restore-detached", "--pidfile", w + "/restored.pid"};
    if (lazy) args.emplace_back("--lazy-pages");
    if (tcp_close) args.emplace_back("--tcp-close");
    if (int rc = run_criu(args, w, "restore.log", &us); rc != 0) return rc;
    const std::string pid = read_first_line(w + "/restored.pid");
    if (std::ofstream out(w + "/restore_us"); !(out << us << "\n"))
        return std::fprintf(stderr, "ctrbench-agent: criu-restore: cannot write %s/restore_us\n", work), 1;
    std::printf("restore_us %lld pid %s lazy_daemon_us %lld\n", us, pid.c_str(), daemon_us);
    return 0;
}

int checkpoint_wake(const char* work, long timeout_ms) {
    const std::string w = work;
    const std::string pid = read_first_line(w + "/restored.pid");
    const std::string restore_us = read_first_line(w + "/restore_us");
    if (pid.empty() || restore_us.empty())
        return std::fprintf(stderr, "ctrbench-agent: checkpoint-wake: nothing was restored in %s\n", work), 1;
    std::fflush(stdout);
    std::printf("restore_us %s ", restore_us.c_str());
    return memtouch_wake(static_cast<pid_t>(std::atol(pid.c_str())), work, timeout_ms);
}
