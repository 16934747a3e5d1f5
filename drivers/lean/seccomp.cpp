#include "drivers/lean/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/unique_fd.h"

namespace ctrbench::lean {
namespace {

// Docker's default profile: allowed for every container.
constexpr const char* kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod", "chown",
    "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
    "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
    "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
    "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
    "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
    "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create",
    "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
    "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
    "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
    "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
    "waitpid", "write", "writev",
    // kernel >= 4.8 (ptrace no longer bypasses seccomp); x86's own
    "process_vm_readv", "process_vm_writev", "ptrace", "arch_prctl", "modify_ldt"};

// Calls a capability unlocks (the profile's "includes: caps").
struct CapGroup {
    int cap;
    std::vector<const char*> names;
};
const std::vector<CapGroup>& cap_groups() {
    static const std::vector<CapGroup> g = {
        {2, {"open_by_handle_at"}},  // DAC_READ_SEARCH
        {21, {"bpf",       "clone",           "clone3",         "fanotify_init", "fsconfig",      "fsmount",
              "fsopen",    "fspick",          "lookup_dcookie", "mount",         "mount_setattr", "move_mount",
              "open_tree", "perf_event_open", "quotactl",       "quotactl_fd",   "setdomainname", "sethostname",
              "setns",     "syslog",          "umount",         "umount2",       "unshare"}},  // SYS_ADMIN
        {22, {"reboot"}},                                                                      // SYS_BOOT
        {18, {"chroot"}},                                                                      // SYS_CHROOT
        {16, {"delete_module", "init_module", "finit_module"}},                                // SYS_MODULE
        {20, {"acct"}},                                                                        // SYS_PACCT
        {19, {"kcmp", "pidfd_getfd", "process_madvise"}},                                      // SYS_PTRACE
        {17, {"iopl", "ioperm"}},                                                              // SYS_RAWIO
        {25, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},                   // SYS_TIME
        {26, {"vhangup"}},                                                                     // SYS_TTY_CONFIG
        {23, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},          // SYS_NICE
        {34, {"syslog"}},                                                                      // SYSLOG
        {39, {"bpf"}},                                                                         // BPF
        {38, {"perf_event_open"}}};                                                            // PERFMON
    return g;
}

constexpr int kSysAdmin = 21;
constexpr std::uint64_t kNamespaceFlags = 0x7E020000;  // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// Adds a rule for a call by name; a name this libseccomp or architecture does not know is skipped,
// as Docker does.
int allow(scmp_filter_ctx ctx, const char* name, unsigned n = 0, const scmp_arg_cmp* args = nullptr) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return 0;
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args);
    return rc == -EDOM || rc == -EFAULT ? 0 : rc;  // not on this architecture
}

int add_rules(scmp_filter_ctx ctx, std::uint64_t caps) {
    int rc = 0;
    for (const char* name : kAllowed) rc = rc ? rc : allow(ctx, name);
    const scmp_arg_cmp no_vsock = SCMP_A0(SCMP_CMP_NE, 40);  // AF_VSOCK
    rc = rc ? rc : allow(ctx, "socket", 1, &no_vsock);
    for (std::uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
        const scmp_arg_cmp eq = SCMP_A0(SCMP_CMP_EQ, persona);
        rc = rc ? rc : allow(ctx, "personality", 1, &eq);
    }
    for (const auto& g : cap_groups())
        if (caps >> g.cap & 1)
            for (const char* name : g.names) rc = rc ? rc : allow(ctx, name);
    if (!(caps >> kSysAdmin & 1)) {
        const scmp_arg_cmp no_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0);
        rc = rc ? rc : allow(ctx, "clone", 1, &no_ns);
        rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name("clone3"), 0);
    }
    return rc;
}

Result<SeccompProgram> build(std::uint64_t caps) {
    Ctx ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)), seccomp_release);
    if (!ctx) return fail_msg("seccomp_init failed");
    // The native architecture only: the kernel compiles the filter at each load, and the 32-bit
    // sub-architectures Docker adds triple it (1227 instructions, ~370 us a load here, against 405
    // and ~130 us). Calls of another ABI (i386, x32) fail with ENOSYS.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
    rc = rc ? rc : seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);       // the runtime sets no_new_privs itself
    rc = rc ? rc : seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);  // a binary tree: fewer jumps per call
    rc = rc ? rc : add_rules(ctx.get(), caps);
    if (rc) return fail(Error::sys(-rc, "build the seccomp filter"));
    UniqueFd mem(static_cast<int>(::syscall(SYS_memfd_create, "ctrbench-seccomp", MFD_CLOEXEC)));
    if (!mem) return fail_sys("memfd_create for the seccomp filter");
    rc = seccomp_export_bpf(ctx.get(), mem.get());
    if (rc != 0) return fail(Error::sys(-rc, "export the seccomp filter"));
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return fail_msg("the exported seccomp filter has a bad size");
    SeccompProgram p;
    p.code.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), p.code.data(), static_cast<std::size_t>(size), 0) != size)
        return fail_sys("read the exported seccomp filter");
    return p;
}

}  // namespace

Result<const sock_fprog*> default_seccomp_filter(std::uint64_t caps) {
    static std::mutex mu;
    static std::map<std::uint64_t, std::unique_ptr<SeccompProgram>> built;
    std::lock_guard lock(mu);
    auto& slot = built[caps];
    if (!slot) {
        auto p = build(caps);
        if (!p) {
            built.erase(caps);
            return fail(std::move(p.error()));
        }
        slot = std::make_unique<SeccompProgram>(std::move(*p));
        slot->prog.len = static_cast<unsigned short>(slot->code.size());
        slot->prog.filter = slot->code.data();
    }
    return &slot->prog;
}

bool load_seccomp_filter(const sock_fprog* filter) {
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, filter) == 0;
}

}  // namespace ctrbench::lean
