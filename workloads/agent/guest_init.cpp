// ctrbench-agent guest-init: the agent as the first process of a microvm guest (the microvm driver's
// `rdinit=/usr/bin/ctrbench-agent -- guest-init`). It sets up what a container runtime would (proc,
// sys, dev, a cgroup with the container's limits, loopback, the hostname), says it is ready on the
// serial port, then runs the host's commands, one at a time, and powers the guest off when told.
//
// The protocol on /dev/ttyS0 (raw mode; the kernel's own console output is off, loglevel=0):
//   guest -> host  "CTRBENCH-READY\n" once the guest is set up and the container's first process (the
//                  arguments after guest-init) runs, or "CTRBENCH-FAILED <why>\n" and the guest powers off
//   host  -> guest "E <n>\n" and n bytes: timeout in ms, then argv, each NUL-terminated
//   guest -> host  "R <exit> <signal> <timed_out> <oom_kills> <out bytes> <err bytes>\n", out, err
//   host  -> guest "P\n": sync and power off
// The limits come as kernel parameters the kernel hands to init as environment variables:
// CTRBENCH_MEMORY (bytes), CTRBENCH_PIDS, CTRBENCH_CPU_QUOTA (µs per 100 ms), CTRBENCH_HOSTNAME,
// CTRBENCH_WORKDIR, CTRBENCH_CAPS (the capabilities the container's processes keep, a bit mask: the
// rest leave their bounding set) and CTRBENCH_NET (eth0's address, "10.213.0.2/30": the modules in
// /lib/modules/ctrbench are loaded in name order, then eth0 gets the address and goes up).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr const char* kCgroup = "/sys/fs/cgroup/container";

void write_file(const std::string& path, const std::string& value) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)!::write(fd, value.data(), value.size());
    ::close(fd);
}

std::string read_file(const std::string& path) {
    std::string s;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return s;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
}

long oom_kills() {
    auto events = read_file(std::string(kCgroup) + "/memory.events");
    auto at = events.find("oom_kill ");
    return at == std::string::npos ? 0 : std::atol(events.c_str() + at + 9);
}

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

bool read_all(int fd, char* p, size_t n) {
    while (n > 0) {
        ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool read_line(int fd, std::string& line) {
    line.clear();
    for (char c; read_all(fd, &c, 1);) {
        if (c == '\n') return true;
        line += c;
    }
    return false;
}

// Drops from the calling process's bounding set every capability not in CTRBENCH_CAPS: what it execs
// as root then has those only.
void drop_capabilities() {
    const char* caps = std::getenv("CTRBENCH_CAPS");
    if (!caps) return;
    const unsigned long long keep = std::strtoull(caps, nullptr, 0);
    const int last = std::atoi(read_file("/proc/sys/kernel/cap_last_cap").c_str());
    for (int cap = 0; cap <= last && cap < 64; ++cap)
        if (!(keep & (1ULL << cap))) (void)::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
}

bool set_ifreq(int s, unsigned long request, ifreq& ifr) {
    return ::ioctl(s, request, &ifr) == 0;
}

// Brings `name` up, with `cidr` ("10.213.0.2/30") as its address unless empty; "" or why not.
std::string interface_up(const char* name, const std::string& cidr) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return std::string("socket: ") + std::strerror(errno);
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    std::string why;
    if (!cidr.empty()) {
        const auto slash = cidr.find('/');
        const int prefix = slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
        auto* in = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
        in->sin_family = AF_INET;
        if (::inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &in->sin_addr) != 1) why = "bad address " + cidr;
        if (why.empty() && !set_ifreq(s, SIOCSIFADDR, ifr))
            why = std::string("set ") + name + "'s address: " + std::strerror(errno);
        in->sin_addr.s_addr = htonl(prefix == 0 ? 0 : ~0U << (32 - prefix));
        if (why.empty() && !set_ifreq(s, SIOCSIFNETMASK, ifr))
            why = std::string("set ") + name + "'s netmask: " + std::strerror(errno);
    }
    if (why.empty() && !set_ifreq(s, SIOCGIFFLAGS, ifr)) why = std::string(name) + ": " + std::strerror(errno);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (why.empty() && !set_ifreq(s, SIOCSIFFLAGS, ifr))
        why = std::string("set ") + name + " up: " + std::strerror(errno);
    ::close(s);
    return why;
}

// CTRBENCH_NET: the link's modules loaded, eth0 addressed and up; "" or why not.
std::string setup_network() {
    const char* net = std::getenv("CTRBENCH_NET");
    if (!net) return "";
    const std::string dir = "/lib/modules/ctrbench";
    std::vector<std::string> modules;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') modules.emplace_back(e->d_name);
        ::closedir(d);
    }
    if (modules.empty()) return "no network modules in " + dir;
    std::sort(modules.begin(), modules.end());
    for (const auto& m : modules) {
        int fd = ::open((dir + "/" + m).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return "open " + m + ": " + std::strerror(errno);
        const long rc = ::syscall(SYS_finit_module, fd, "", 0);
        const int err = errno;
        ::close(fd);
        if (rc != 0 && err != EEXIST) return "load " + m + ": " + std::strerror(err);
    }
    // virtio-net's probe runs as its module loads; eth0 is there when it returns (waited a little).
    for (int i = 0; i < 200 && if_nametoindex("eth0") == 0; ++i) ::usleep(10000);
    if (if_nametoindex("eth0") == 0) return "no eth0 after loading the network modules";
    return interface_up("eth0", net);
}

void setup_guest() {
    ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    ::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    ::mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, nullptr);
    ::mkdir("/dev/pts", 0755);
    ::mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, nullptr);
    ::mkdir("/tmp", 01777);
    ::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids +cpu");
    ::mkdir(kCgroup, 0755);
    if (const char* m = std::getenv("CTRBENCH_MEMORY")) {
        write_file(std::string(kCgroup) + "/memory.max", m);
        write_file(std::string(kCgroup) + "/memory.swap.max", "0");
    }
    if (const char* p = std::getenv("CTRBENCH_PIDS")) write_file(std::string(kCgroup) + "/pids.max", p);
    if (const char* q = std::getenv("CTRBENCH_CPU_QUOTA"))
        write_file(std::string(kCgroup) + "/cpu.max", std::string(q) + " 100000");
    if (const char* h = std::getenv("CTRBENCH_HOSTNAME")) (void)::sethostname(h, std::strlen(h));
    (void)interface_up("lo", "");  // loopback; eth0 comes with CTRBENCH_NET
}

// Runs one command in the container cgroup, its output collected, at most timeout_ms.
std::string run(const std::vector<std::string>& argv, long timeout_ms) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return "R 127 0 0 0 0 0\n";
    const long oom0 = oom_kills();
    pid_t pid = ::fork();
    if (pid == 0) {
        write_file(std::string(kCgroup) + "/cgroup.procs", "0");
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        if (int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC); null >= 0) ::dup2(null, 0);
        ::setsid();
        if (const char* w = std::getenv("CTRBENCH_WORKDIR")) (void)::chdir(w);
        drop_capabilities();
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execvp(a[0], a.data());
        std::fprintf(stderr, "ctrbench: cannot run %s: %s\n", a[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    std::string o, e;
    timespec t0{};
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    bool timed_out = false;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        long left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) {
            timed_out = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0)
                (i == 0 ? o : e).append(buf, static_cast<size_t>(n));
            else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    // Reaped with __WALL: a thread of the command that made this agent its tracer (PTRACE_TRACEME)
    // stays a zombie until its tracer reaps it, and the command cannot be reaped before (issue 13).
    // Orphans reparented to this init are reaped on the way.
    int status = 0;
    for (;;) {
        int st = 0;
        pid_t w = ::waitpid(-1, &st, __WALL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        if (w == pid) {
            status = st;
            break;
        }
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    char head[160];
    std::snprintf(head, sizeof head, "R %d %d %d %ld %zu %zu\n", code, sig, timed_out ? 1 : 0, oom_kills() - oom0,
                  o.size(), e.size());
    return head + o + e;
}

}  // namespace

// Starts the container's first process in its cgroup; "" when it runs, else why not.
std::string start_first_process(int argc, char** argv) {
    if (argc < 1) return "";
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    pid_t pid = ::fork();
    if (pid == 0) {
        write_file(std::string(kCgroup) + "/cgroup.procs", "0");
        ::setsid();
        if (int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0)
            for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
        if (const char* w = std::getenv("CTRBENCH_WORKDIR")) (void)::chdir(w);
        drop_capabilities();
        ::execvp(argv[0], argv);
        int err = errno;
        (void)!::write(report[1], &err, sizeof err);
        ::_exit(127);
    }
    ::close(report[1]);
    int err = 0;
    const bool failed = ::read(report[0], &err, sizeof err) == static_cast<ssize_t>(sizeof err);
    ::close(report[0]);
    if (!failed) return "";
    ::waitpid(pid, nullptr, 0);
    return std::string("cannot run the first process ") + argv[0] + ": " + std::strerror(err);
}

int guest_init(int argc, char** argv) {
    setup_guest();
    // Descriptors 0-2 taken (/dev/null where the kernel opened no console): the pipes and the files
    // opened from here on are 3 or above, so the dup2 onto 0-2 before each exec always moves them.
    for (int fd = ::open("/dev/null", O_RDWR); fd >= 0; fd = ::open("/dev/null", O_RDWR))
        if (fd > 2) {
            ::close(fd);
            break;
        }
    int tty = ::open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) {
        std::fprintf(stderr, "guest-init: /dev/ttyS0: %s\n", std::strerror(errno));
        ::reboot(RB_POWER_OFF);
        return 1;
    }
    termios t{};
    if (::tcgetattr(tty, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(tty, TCSANOW, &t);
    }
    auto why = setup_network();
    if (why.empty()) why = start_first_process(argc, argv);
    if (!why.empty()) {
        const std::string failed = "\nCTRBENCH-FAILED " + why + "\n";
        write_all(tty, failed.data(), failed.size());
        ::tcdrain(tty);
        ::reboot(RB_POWER_OFF);
        return 1;
    }
    const char ready[] = "\nCTRBENCH-READY\n";
    write_all(tty, ready, sizeof ready - 1);
    for (std::string line; read_line(tty, line);) {
        if (line == "P") break;
        if (line.rfind("E ", 0) != 0) continue;
        std::string payload(static_cast<size_t>(std::atol(line.c_str() + 2)), '\0');
        if (!read_all(tty, payload.data(), payload.size())) break;
        std::vector<std::string> fields;
        for (size_t at = 0; at < payload.size();) {
            size_t end = payload.find('\0', at);
            if (end == std::string::npos) end = payload.size();
            fields.emplace_back(payload.substr(at, end - at));
            at = end + 1;
        }
        if (fields.size() < 2) continue;
        const long timeout_ms = std::atol(fields[0].c_str());
        fields.erase(fields.begin());
        auto reply = run(fields, timeout_ms);
        if (!write_all(tty, reply.data(), reply.size())) break;
    }
    ::sync();
    ::reboot(RB_POWER_OFF);
    return 0;
}
