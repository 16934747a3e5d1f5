// ctrbench-agent probe KEY=VALUE...: the isolation workload's attempts, made from inside a container
// the way a hostile program would, one line each on stdout:
//   family/name <TAB> blocked|allowed|untried <TAB> what stopped it, what it reached, or why not tried
// Every probe is harmless to the host when it succeeds: it reads (never writes) what it reaches,
// opens for writing without writing, passes arguments the kernel rejects after its permission
// check (so "allowed" means the permission check passed), and touches only the project's own files
// and sockets. The harness gives, as KEY=VALUE arguments, what it set out on the host for the
// probes to find: marker (a file's path) and token (its content), hostpid and hoststart (the
// harness's pid and start time, to tell the host's process from a container's of the same number),
// port (a TCP listener on the host's 127.0.0.1), abstract (an abstract unix socket's name on the
// host) and blockdev (MAJOR:MINOR of a host disk).
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using Args = std::map<std::string, std::string>;

void report(const char* name, const char* verdict, const std::string& detail) {
    std::printf("%s\t%s\t%s\n", name, verdict, detail.c_str());
    std::fflush(stdout);
}
void blocked(const char* name, const std::string& why) {
    report(name, "blocked", why);
}
void allowed(const char* name, const std::string& what) {
    report(name, "allowed", what);
}
void untried(const char* name, const std::string& why) {
    report(name, "untried", why);
}

std::string err_name(int e) {
    const char* n = strerrorname_np(e);
    return n ? n : std::to_string(e);
}

// A call whose kernel side checks permission before its arguments: success or an argument error
// means the permission check passed; EPERM, EACCES or ENOSYS (seccomp) that it did not.
// A call's result with the errno it left, read after the call (an argument list has no order).
struct Ret {
    long rc;
    int err;
};
Ret ret(long rc) {
    return {rc, rc < 0 ? errno : 0};
}

void gate(const char* name, Ret r, const std::string& what) {
    const long rc = r.rc;
    const int err = r.err;
    if (rc >= 0) return allowed(name, what);
    if (err == EPERM || err == EACCES || err == ENOSYS || err == EROFS) return blocked(name, err_name(err));
    allowed(name, what + " (the permission check passed; the call then failed with " + err_name(err) + ")");
}

// The first `max` bytes of a file, or empty with errno set.
std::string read_head(const std::string& path, std::size_t max, int* err) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return *err = errno, std::string();
    std::string out(max, '\0');
    ssize_t n = read(fd, out.data(), max);
    *err = n < 0 ? errno : 0;
    close(fd);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

// The field of /proc/self/status that starts with `key` ("CapBnd:"), its value only.
std::string status_field(const char* key) {
    int err = 0;
    std::string s = read_head("/proc/self/status", 1 << 14, &err);
    auto pos = s.find(std::string("\n") + key);
    if (pos == std::string::npos) return "";
    pos += std::strlen(key) + 1;
    auto end = s.find('\n', pos);
    std::string v = s.substr(pos, end - pos);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
}

// Waits for a forked probe and returns its exit code, or 128+signal.
int wait_child(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// ---- files: the host's files ----

void host_file(const char* name, const std::string& path, const Args& a) {
    int err = 0;
    std::string got = read_head(path, 256, &err);
    if (err != 0 && got.empty()) return blocked(name, err_name(err) + " on " + path);
    if (got == a.at("token")) return allowed(name, "read the host's file through " + path);
    blocked(name, path + " is the container's own file, not the host's");
}

void probe_files(const Args& a) {
    if (!a.count("marker") || !a.count("token")) {
        for (const char* n : {"files/host-path", "files/dotdot", "files/symlink", "files/proc1-root"})
            untried(n, "no host marker given");
    } else {
        const std::string& m = a.at("marker");
        host_file("files/host-path", m, a);
        host_file("files/dotdot", "/../../../../.." + m, a);
        const char* link = "/tmp/ctrbench-probe-link";
        mkdir("/tmp", 01777);
        unlink(link);
        if (symlink(("/../.." + m).c_str(), link) != 0)
            untried("files/symlink", "cannot make a symlink in /tmp: " + err_name(errno));
        else
            host_file("files/symlink", link, a);
        unlink(link);
        host_file("files/proc1-root", "/proc/1/root" + m, a);
    }
    // File descriptors the harness or the engine left open into the container.
    std::string leaked;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(d)) {
            int fd = std::atoi(e->d_name);
            if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
            char target[256] = {};
            readlink((std::string("/proc/self/fd/") + e->d_name).c_str(), target, sizeof target - 1);
            leaked += (leaked.empty() ? "" : ", ") + std::to_string(fd) + " -> " + target;
        }
        closedir(d);
        leaked.empty() ? blocked("files/inherited-fds", "only stdin, stdout and stderr are open")
                       : allowed("files/inherited-fds", "open: " + leaked);
    } else {
        untried("files/inherited-fds", "cannot list /proc/self/fd: " + err_name(errno));
    }
    // The "shocker" escape: open a file by handle on the container's root mount (CAP_DAC_READ_SEARCH).
    struct {
        file_handle h;
        unsigned char bytes[8];
    } fh{};
    fh.h.handle_bytes = 8;
    fh.h.handle_type = 1;  // FILEID_INO32_GEN: inode 2 (a filesystem's root) generation 0
    fh.bytes[0] = 2;
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long rc = syscall(SYS_open_by_handle_at, root, &fh.h, O_RDONLY);
    int err = errno;
    if (rc >= 0) close(static_cast<int>(rc));
    close(root);
    gate("files/open-by-handle", {rc, err}, "open a file by its handle (the shocker escape)");
}

// ---- processes ----

// Whether the harness's own process is visible: its pid shows the start time the harness gave.
bool host_pid_visible(const Args& a, std::string* why) {
    if (!a.count("hostpid") || !a.count("hoststart")) return *why = "no host pid given", false;
    int err = 0;
    std::string stat = read_head("/proc/" + a.at("hostpid") + "/stat", 1024, &err);
    if (stat.empty()) return *why = "/proc/" + a.at("hostpid") + ": " + err_name(err), false;
    auto pos = stat.rfind(')');
    std::vector<std::string> f;
    for (std::size_t i = pos + 2, j; i < stat.size(); i = j + 1) {
        j = stat.find(' ', i);
        if (j == std::string::npos) j = stat.size();
        f.push_back(stat.substr(i, j - i));
    }
    // Fields after the name start at field 3 (state); starttime is field 22.
    if (f.size() > 19 && f[19] == a.at("hoststart")) return true;
    return *why = "pid " + a.at("hostpid") + " is a process of the container, not the host's", false;
}

void probe_processes(const Args& a) {
    std::string why;
    bool visible = host_pid_visible(a, &why);
    visible ? allowed("processes/host-pid", "the harness's process is visible as pid " + a.at("hostpid"))
            : blocked("processes/host-pid", why);
    if (!visible) {
        blocked("processes/signal-host", "the host's processes are not visible: " + why);
        blocked("processes/ptrace-host", "the host's processes are not visible: " + why);
    } else {
        pid_t p = std::atoi(a.at("hostpid").c_str());
        gate("processes/signal-host", ret(kill(p, 0)), "signal the harness (signal 0)");
        long rc = ptrace(PTRACE_SEIZE, p, nullptr, nullptr);
        int err = errno;
        if (rc == 0) ptrace(PTRACE_DETACH, p, nullptr, nullptr);
        gate("processes/ptrace-host", {rc, err}, "ptrace the harness (attached, then detached)");
    }
    // A thread that asks its parent to trace it (the trick that wedged launchers): in a child, so
    // this process is the tracer and reaps it.
    int fds[2];
    if (pipe(fds) != 0) return untried("processes/traceme-thread", "pipe: " + err_name(errno));
    pid_t child = fork();
    if (child == 0) {
        pthread_t t;
        static int out;
        out = fds[1];
        pthread_create(
            &t, nullptr,
            [](void*) -> void* {
                int r = ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : errno;
                if (write(out, &r, sizeof r) < 0) _exit(1);
                return nullptr;
            },
            nullptr);
        pthread_join(t, nullptr);
        _exit(0);
    }
    close(fds[1]);
    int r = -1;
    if (read(fds[0], &r, sizeof r) != sizeof r) r = -1;
    close(fds[0]);
    // Reap the traced thread too (its tracer is this process), then the child.
    for (int st = 0; child > 0;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0 && errno != EINTR) break;
        if (w > 0 && WIFSTOPPED(st)) ptrace(PTRACE_DETACH, w, nullptr, nullptr);
        if (w == child && (WIFEXITED(st) || WIFSIGNALED(st))) break;
    }
    if (r == 0)
        allowed("processes/traceme-thread", "a thread may ask its parent to trace it (reaped; nothing wedged)");
    else
        r < 0 ? untried("processes/traceme-thread", "the child did not report")
              : blocked("processes/traceme-thread", err_name(r));
}

// ---- mounts ----

void probe_mounts() {
    const char* dir = "/tmp/ctrbench-probe-mnt";
    mkdir("/tmp", 01777);
    mkdir(dir, 0700);
    int rc = mount("ctrbench", dir, "tmpfs", 0, "size=1m");
    int err = errno;
    if (rc == 0) umount2(dir, MNT_DETACH);
    gate("mounts/mount-tmpfs", {rc, err}, "mount a tmpfs");
    rc = mount(nullptr, "/proc/sys", nullptr, MS_REMOUNT | MS_BIND, nullptr);
    err = errno;
    if (rc == 0) mount(nullptr, "/proc/sys", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
    gate("mounts/remount-proc-sys", {rc, err}, "remount /proc/sys read-write");
    gate("mounts/umount-mask", ret(umount2("/proc/kcore", MNT_DETACH)), "unmount the mask over /proc/kcore");
    gate("mounts/pivot-root", ret(syscall(SYS_pivot_root, "/nonexistent-ctrbench-a", "/nonexistent-ctrbench-b")),
         "pivot_root");
    pid_t p = fork();
    if (p == 0) _exit(unshare(CLONE_NEWNS) == 0 ? 0 : errno);
    int code = wait_child(p);
    code == 0 ? allowed("mounts/unshare-mount", "made a new mount namespace")
              : blocked("mounts/unshare-mount", err_name(code));
    // Root of a new user namespace mounting a tmpfs (how unprivileged users get mount powers).
    uid_t uid = getuid();
    gid_t gid = getgid();
    p = fork();
    if (p == 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(10);
        auto put = [](const char* f, const std::string& s) {
            int fd = open(f, O_WRONLY);
            bool ok = fd >= 0 && write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
            if (fd >= 0) close(fd);
            return ok;
        };
        if (!put("/proc/self/setgroups", "deny") || !put("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
            !put("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
            _exit(11);
        _exit(mount("ctrbench", dir, "tmpfs", 0, "size=1m") == 0 ? 0 : 12);
    }
    code = wait_child(p);
    static const char* const kStep[] = {"unshare(CLONE_NEWUSER) failed", "writing the id maps failed",
                                        "the mount failed"};
    code == 0
        ? allowed("mounts/userns-mount", "root of a new user namespace mounted a tmpfs")
        : blocked("mounts/userns-mount", code >= 10 && code <= 12 ? kStep[code - 10] : "exit " + std::to_string(code));
    rmdir(dir);
}

// ---- devices ----

void probe_device_node(const char* name, mode_t type, dev_t dev, const std::string& what) {
    const char* node = "/tmp/ctrbench-probe-dev";
    unlink(node);
    if (mknod(node, type | 0600, dev) != 0) return blocked(name, "mknod: " + err_name(errno));
    int fd = open(node, O_RDONLY | O_CLOEXEC);
    int err = errno;
    unlink(node);
    if (fd < 0) return blocked(name, "mknod allowed, open: " + err_name(err));
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    allowed(name, "opened " + what + (n > 0 ? " and read " + std::to_string(n) + " bytes" : ""));
}

void probe_devices(const Args& a) {
    if (a.count("blockdev")) {
        unsigned maj = 0, min = 0;
        std::sscanf(a.at("blockdev").c_str(), "%u:%u", &maj, &min);
        probe_device_node("devices/mknod-disk", S_IFBLK, makedev(maj, min), "the host's disk " + a.at("blockdev"));
    } else {
        untried("devices/mknod-disk", "the host has no disk to name");
    }
    probe_device_node("devices/mknod-mem", S_IFCHR, makedev(1, 1), "/dev/mem");
    int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    fd >= 0 ? allowed("devices/dev-mem", "opened /dev/mem") : blocked("devices/dev-mem", err_name(errno));
    fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        blocked("devices/dev-kmsg", err_name(errno));
    } else {
        char buf[1024];
        ssize_t n = read(fd, buf, sizeof buf);
        int err = errno;
        close(fd);
        n > 0 ? allowed("devices/dev-kmsg", "read the kernel log")
              : blocked("devices/dev-kmsg", "opened, read: " + err_name(err));
    }
    // Device nodes beyond what a container needs.
    static const char* const kUsual[] = {"null", "zero", "full", "random", "urandom", "tty", "console", "ptmx"};
    std::string extra;
    if (DIR* d = opendir("/dev")) {
        while (dirent* e = readdir(d)) {
            struct stat st {};
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) continue;
            bool usual = false;
            for (const char* u : kUsual) usual = usual || !std::strcmp(u, e->d_name);
            if (!usual) extra += (extra.empty() ? "" : " ") + std::string(e->d_name);
        }
        closedir(d);
    }
    extra.empty() ? blocked("devices/extra-nodes", "only null zero full random urandom tty console ptmx")
                  : allowed("devices/extra-nodes", "/dev has " + extra);
}

// ---- kernel interfaces ----

void open_for_write(const char* name, const char* path, const std::string& what) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);  // opened, never written
    int err = errno;
    if (fd >= 0) close(fd);
    fd >= 0 ? allowed(name, what) : blocked(name, err_name(err));
}

void readable(const char* name, const char* path, const std::string& what) {
    int err = 0;
    std::string s = read_head(path, 256, &err);
    !s.empty() ? allowed(name, what) : blocked(name, err ? err_name(err) : "reads empty (masked)");
}

void probe_fd_call(const char* name, Ret r, const std::string& what) {
    if (r.rc >= 0) close(static_cast<int>(r.rc));
    gate(name, r, what);
}

void probe_kernel() {
    open_for_write("kernel/sysrq-trigger", "/proc/sysrq-trigger", "/proc/sysrq-trigger is writable");
    open_for_write("kernel/proc-sys-global", "/proc/sys/vm/overcommit_memory",
                   "/proc/sys/vm/overcommit_memory (host-wide) is writable");
    open_for_write("kernel/proc-sys-uts", "/proc/sys/kernel/hostname",
                   "/proc/sys/kernel/hostname is writable (UTS-namespaced: the container's own name)");
    gate("kernel/module", ret(syscall(SYS_finit_module, -1, "", 0)), "load a kernel module");
    readable("kernel/proc-keys", "/proc/keys", "/proc/keys lists keyrings");
    gate("kernel/keyctl", ret(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)),
         "keyctl on the session keyring");
    gate("kernel/add-key", ret(syscall(SYS_add_key, "user", "ctrbench-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING)),
         "add a key to its process keyring");
    readable("kernel/timer-list", "/proc/timer_list", "/proc/timer_list is readable");
    readable("kernel/kcore", "/proc/kcore", "/proc/kcore is readable");
    gate("kernel/syslog", ret(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0)),
         "read the kernel log buffer size with syslog(2)");
    bpf_attr attr{};
    probe_fd_call("kernel/bpf", ret(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr)), "create a bpf(2) map");
    perf_event_attr pe{};
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    pe.disabled = 1;
    probe_fd_call("kernel/perf-event", ret(syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0)),
                  "open a perf_event counter");
    probe_fd_call("kernel/userfaultfd", ret(syscall(SYS_userfaultfd, O_CLOEXEC)), "open a userfaultfd");
    io_uring_params up{};
    probe_fd_call("kernel/io-uring", ret(syscall(SYS_io_uring_setup, 1, &up)), "set up an io_uring");
}

// ---- network ----

bool connect_within(int fd, const sockaddr* addr, socklen_t len, int* err) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (connect(fd, addr, len) == 0) return true;
    if (errno != EINPROGRESS) return *err = errno, false;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 300) != 1) return *err = ETIMEDOUT, false;
    socklen_t l = sizeof *err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &l);
    return *err == 0;
}

void probe_network(const Args& a) {
    probe_fd_call("network/raw-socket", ret(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)),
                  "open a raw IP socket");
    probe_fd_call("network/packet-socket", ret(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)), "open a packet socket");
    probe_fd_call("network/vsock", ret(socket(40 /* AF_VSOCK */, SOCK_STREAM | SOCK_CLOEXEC, 0)),
                  "open a vsock socket");
    if (!a.count("port")) {
        untried("network/host-loopback", "no host port given");
    } else {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(static_cast<uint16_t>(std::atoi(a.at("port").c_str())));
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int err = 0;
        bool ok = connect_within(fd, reinterpret_cast<sockaddr*>(&in), sizeof in, &err);
        close(fd);
        ok ? allowed("network/host-loopback", "connected to the host's 127.0.0.1:" + a.at("port"))
           : blocked("network/host-loopback", "127.0.0.1:" + a.at("port") + ": " + err_name(err));
    }
    if (!a.count("abstract")) return untried("network/abstract-unix", "no abstract socket given");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    const std::string& name = a.at("abstract");
    std::memcpy(un.sun_path + 1, name.data(), std::min(name.size(), sizeof un.sun_path - 2));
    int err = 0;
    bool ok = connect_within(fd, reinterpret_cast<sockaddr*>(&un),
                             static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size()), &err);
    close(fd);
    ok ? allowed("network/abstract-unix", "connected to the host's abstract socket @" + name)
       : blocked("network/abstract-unix", "@" + name + ": " + err_name(err));
}

// ---- resources ----

void probe_memory() {
    constexpr long kMiB = 1 << 20, kTotal = 1280;  // over the 1 GiB every driver sets
    pid_t p = fork();
    if (p == 0) {
        // Populated by the kernel in one call (a third of the time of faulting each page in):
        // every page is charged to the container's memory, then written to be sure.
        auto* m = static_cast<char*>(mmap(nullptr, kTotal * kMiB, PROT_READ | PROT_WRITE,
                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0));
        if (m == MAP_FAILED) _exit(3);
        for (long off = 0; off < kTotal * kMiB; off += 4096) m[off] = 1;
        _exit(0);
    }
    int code = wait_child(p);
    if (code == 0) return allowed("resources/memory", "touched 1280 MiB: no limit at 1 GiB");
    blocked("resources/memory", code == 128 + SIGKILL ? "killed (SIGKILL) on the way to 1280 MiB"
                                : code == 3           ? "mmap failed on the way to 1280 MiB"
                                                      : "ended with code " + std::to_string(code));
}

// A child that shares this process's memory (no page tables to copy: fast) and waits to be killed.
int idle_child(void*) {
    for (;;) syscall(SYS_pause);
}

// `limit`: the container's pids limit (the harness sets it for this workload); it tries 76 more.
void probe_pids(int limit) {
    const int want = limit + 76;
    constexpr std::size_t kStack = 16384;  // each child's own stack in one shared mapping
    auto* stacks = static_cast<char*>(
        mmap(nullptr, want * kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (stacks == MAP_FAILED) return untried("resources/pids", "no memory for the children's stacks");
    std::vector<pid_t> kids;
    int err = 0;
    for (int i = 0; i < want; ++i) {
        pid_t p = clone(idle_child, stacks + (i + 1) * kStack, CLONE_VM | SIGCHLD, nullptr);
        if (p < 0) {
            err = errno;
            break;
        }
        kids.push_back(p);
    }
    for (pid_t k : kids) kill(k, SIGKILL);
    for (pid_t k : kids) wait_child(k);
    munmap(stacks, want * kStack);
    if (std::cmp_equal(kids.size(), want))
        return allowed("resources/pids",
                       "made " + std::to_string(want) + " processes: no limit at " + std::to_string(limit));
    blocked("resources/pids", "fork failed after " + std::to_string(kids.size()) + ": " + err_name(err));
}

double now_s(clockid_t c) {
    timespec t{};
    clock_gettime(c, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void probe_cpu() {
    constexpr double kWall = 0.3;
    static double until;
    until = now_s(CLOCK_MONOTONIC) + kWall;
    double cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    auto spin = [](void*) -> void* {
        while (now_s(CLOCK_MONOTONIC) < until) {
        }
        return nullptr;
    };
    pthread_t t1, t2;
    pthread_create(&t1, nullptr, spin, nullptr);
    pthread_create(&t2, nullptr, spin, nullptr);
    pthread_join(t1, nullptr);
    pthread_join(t2, nullptr);
    double cpus = (now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / kWall;
    char buf[96];
    std::snprintf(buf, sizeof buf, "two spinning threads used %.2f CPUs for %.1f s", cpus, kWall);
    cpus > 1.5 ? allowed("resources/cpu", std::string(buf) + ": no limit at 1 CPU") : blocked("resources/cpu", buf);
}

void probe_disk() {
    untried("resources/disk", "ctrbench sets no quota on the writable layer; filling it would fill the host's disk");
}

// ---- privilege ----

void probe_caps() {
    static const std::pair<int, const char*> kDangerous[] = {
        {2, "DAC_READ_SEARCH"}, {12, "NET_ADMIN"}, {16, "SYS_MODULE"}, {17, "SYS_RAWIO"},
        {19, "SYS_PTRACE"},     {21, "SYS_ADMIN"}, {22, "SYS_BOOT"},   {25, "SYS_TIME"},
        {33, "MAC_ADMIN"},      {34, "SYSLOG"},    {38, "PERFMON"},    {39, "BPF"}};
    unsigned long long bnd = std::strtoull(status_field("CapBnd:").c_str(), nullptr, 16);
    std::string held;
    for (auto [bit, name] : kDangerous)
        if (bnd >> bit & 1) held += (held.empty() ? "" : " ") + std::string(name);
    held.empty() ? blocked("privilege/bounding-set", "CapBnd " + status_field("CapBnd:") + ": no admin capability")
                 : allowed("privilege/bounding-set", "CapBnd holds " + held);
    for (auto [name, key] :
         {std::pair{"privilege/inheritable", "CapInh:"}, std::pair{"privilege/ambient", "CapAmb:"}}) {
        std::string v = status_field(key);
        std::strtoull(v.c_str(), nullptr, 16) == 0 ? blocked(name, std::string(key) + " " + v + " (empty)")
                                                   : allowed(name, std::string(key) + " " + v);
    }
}

void probe_privilege() {
    int err = 0;
    std::string map = read_head("/proc/self/uid_map", 256, &err);
    unsigned long inside = 1, outside = 1, count = 0;
    std::sscanf(map.c_str(), "%lu %lu %lu", &inside, &outside, &count);
    if (map.empty())
        untried("privilege/host-root", "cannot read /proc/self/uid_map: " + err_name(err));
    else if (getuid() == 0 && inside == 0 && outside == 0)
        allowed("privilege/host-root", "uid 0 in the container is uid 0 on the host");
    else
        blocked("privilege/host-root",
                "uid " + std::to_string(getuid()) + " maps to host uid " + std::to_string(outside + getuid() - inside));
    probe_caps();
    std::string nnp = status_field("NoNewPrivs:");
    if (nnp.empty())
        untried("privilege/no-new-privs", "this kernel's /proc/self/status has no NoNewPrivs");
    else
        nnp == "1" ? blocked("privilege/no-new-privs", "NoNewPrivs 1")
                   : allowed("privilege/no-new-privs", "NoNewPrivs " + nnp);
    std::string sec = status_field("Seccomp:");
    sec == "2" ? blocked("privilege/seccomp", "Seccomp 2 (filter)")
    : sec == "1"
        ? blocked("privilege/seccomp", "Seccomp 1 (strict)")
        : allowed("privilege/seccomp", "Seccomp " + (sec.empty() ? std::string("not reported") : sec) + ": no filter");
    // A set-user-ID root program run by an unprivileged user: does it run with euid 0?
    const char* copy = "/tmp/ctrbench-probe-suid";
    unlink(copy);
    int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    bool copied = in >= 0 && out >= 0;
    char buf[1 << 16];
    for (ssize_t n; copied && (n = read(in, buf, sizeof buf)) > 0;)
        copied = write(out, buf, static_cast<size_t>(n)) == n;
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (!copied || chown(copy, 0, 0) != 0 || chmod(copy, 04755) != 0) {
        unlink(copy);
        return untried("privilege/setuid", "cannot make a set-user-ID copy in /tmp: " + err_name(errno));
    }
    pid_t p = fork();
    if (p == 0) {
        if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
        execl(copy, copy, "euid", static_cast<char*>(nullptr));
        _exit(101);
    }
    int code = wait_child(p);
    unlink(copy);
    if (code == 0) return allowed("privilege/setuid", "a set-user-ID root program ran with euid 0 for uid 65534");
    code == 1 ? blocked("privilege/setuid", "the set-user-ID bit gave nothing (euid stayed 65534)")
              : untried("privilege/setuid", code == 100 ? "cannot become uid 65534" : "the copy did not run");
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 0; i < argc; ++i)
        if (const char* eq = std::strchr(argv[i], '='))
            a[std::string(argv[i], static_cast<std::size_t>(eq - argv[i]))] = eq + 1;
    return a;
}

}  // namespace

// Exit 0 when euid is 0 (the set-user-ID probe's copy), 1 otherwise.
int probe_euid() {
    return geteuid() == 0 ? 0 : 1;
}

// Runs every probe family in turn; exits 0 when every probe reported. `memory=only` runs the
// memory probe alone, `memory=skip` all but it: the harness runs it in an exec of its own, since
// where the sandbox's own kernel holds the limit by being killed whole (gVisor's Sentry under the
// host's cgroup) the exec may end without its output, or never.
int probe_all(int argc, char** argv) {
    Args a = parse(argc, argv);
    const std::string memory = a.count("memory") ? a.at("memory") : "";
    // Each family's time on stderr ("files 1.2 ms"): the run's exec phase is their sum.
    auto timed = [](const char* family, auto&& probe) {
        double t0 = now_s(CLOCK_MONOTONIC);
        probe();
        std::fprintf(stderr, "%s %.1f ms\n", family, (now_s(CLOCK_MONOTONIC) - t0) * 1000);
    };
    if (memory == "only") return probe_memory(), 0;
    timed("files", [&] { probe_files(a); });
    timed("processes", [&] { probe_processes(a); });
    timed("mounts", [] { probe_mounts(); });
    timed("devices", [&] { probe_devices(a); });
    timed("kernel", [] { probe_kernel(); });
    timed("network", [&] { probe_network(a); });
    timed("privilege", [] { probe_privilege(); });
    const int pids = a.count("pids") ? std::atoi(a.at("pids").c_str()) : 1024;
    timed("resources/pids", [&] { probe_pids(pids > 0 ? pids : 1024); });
    timed("resources/cpu", [] { probe_cpu(); });
    probe_disk();
    if (memory != "skip") timed("resources/memory", [] { probe_memory(); });
    return 0;
}
