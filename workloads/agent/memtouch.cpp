// The checkpoint workload's process (seed 002): it touches MB MiB of memory, waits to be dumped, and,
// once restored and woken, touches it all again and says how long that took and whether the memory
// still held what it wrote before the dump.
//   ctrbench-agent memtouch MB OUTDIR   prints "memtouch pid P sum S" once ready, then leaves P waiting
//   ctrbench-agent memtouch-wake P OUTDIR MS   wakes P (SIGUSR1), waits at most MS ms for its result,
//                                              prints "memtouch sum S ok|bad exec_us U"
// P is a child of the command, in a session of its own, with /dev/null as its stdio and nothing else
// open: what CRIU dumps and restores without help. It takes a pid of 1000 or more where it can (it
// sets ns_last_pid), so that a container restoring it, whose own first pids are taken, has its pid free.
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace {

constexpr long kPage = 4096;
constexpr pid_t kHighPid = 1000;

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

// The waiting process: touch, say ready on `ready`, wait for SIGUSR1, touch again, write the result.
[[noreturn]] void touch_and_wait(long mb, const std::string& outdir, int ready) {
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
    const std::string line = std::to_string(sum) + "\n";
    (void)!::write(ready, line.data(), line.size());
    ::close(ready);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) _exit(fail("open /dev/null"));
    for (int fd = 0; fd < 3; ++fd) ::dup2(devnull, fd);
    ::close_range(3, ~0U, 0);  // whatever the launcher left open: nothing CRIU would need help with
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
    const std::string result = "memtouch sum " + std::to_string(seen) + (seen == sum ? " ok" : " bad") + " exec_us " +
                               std::to_string(us) + "\n";
    const std::string tmp = outdir + "/result.tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(1);
    (void)!::write(fd, result.data(), result.size());
    ::close(fd);
    _exit(::rename(tmp.c_str(), (outdir + "/result").c_str()) == 0 ? 0 : 1);
}

}  // namespace

int memtouch(long mb, const char* outdir) {
    if (mb <= 0) return std::fprintf(stderr, "ctrbench-agent: memtouch: MB must be positive\n"), 2;
    if (::getpid() < kHighPid) {  // best effort: without CAP_SYS_ADMIN the pid is whatever comes next
        if (FILE* f = std::fopen("/proc/sys/kernel/ns_last_pid", "w")) {
            std::fprintf(f, "%d", kHighPid - 1);
            std::fclose(f);
        }
    }
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail("pipe");
    const pid_t child = ::fork();
    if (child < 0) return fail("fork");
    if (child == 0) {
        ::close(pipefd[0]);
        touch_and_wait(mb, outdir, pipefd[1]);
    }
    ::close(pipefd[1]);
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
