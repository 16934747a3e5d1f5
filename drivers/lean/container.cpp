#include "drivers/lean/container.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "drivers/lean/capabilities.h"
#include "drivers/lean/child_protocol.h"
#include "drivers/lean/seccomp.h"
#include "drivers/lean/userns.h"

namespace ctrbench::lean {
namespace {

[[noreturn]] void die(int fd, const char* what) {
    send_error(fd, errno, what);
    ::_exit(127);
}

std::string env_path(const std::vector<std::string>& env) {
    for (const auto& e : env)
        if (e.starts_with("PATH=")) return e.substr(5);
    return "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
}

// The paths execve should try for argv0: itself when it has a slash, else each PATH entry.
std::vector<std::string> exec_candidates(const std::string& argv0, const std::vector<std::string>& env) {
    if (argv0.find('/') != std::string::npos) return {argv0};
    std::vector<std::string> out;
    std::string path = env_path(env);
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto next = path.find(':', pos);
        std::string dir = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        if (!dir.empty()) out.push_back(dir + "/" + argv0);
        if (next == std::string::npos) break;
        pos = next + 1;
    }
    return out;
}

std::vector<char*> c_array(const std::vector<std::string>& v) {
    std::vector<char*> out;
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

struct Pipe {
    int r = -1, w = -1;
    Status open() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return fail_sys("pipe2");
        r = fds[0];
        w = fds[1];
        return {};
    }
    void close_r() {
        if (r >= 0) ::close(r), r = -1;
    }
    void close_w() {
        if (w >= 0) ::close(w), w = -1;
    }
    ~Pipe() { close_r(), close_w(); }
};

// The steps the child takes after setup, identical for the first process and for exec'd ones.
struct ExecPlan {
    std::vector<char*> argv, envp;
    std::vector<std::string> candidates;
    std::string what;  // "exec /bin/echo"
    const char* workdir;
    std::uint64_t caps;
    int last_cap;
    const sock_fprog* seccomp;  // nullptr: unconfined
    bool userns;                // become the user namespace's root (host uid kUsernsBase)
};

// In a user namespace: uid and gid 0 of it, no supplementary groups. A process that entered the
// namespace with setns is still the host's root until it does this.
bool become_userns_root() {
    return ::setgroups(0, nullptr) == 0 && ::setresgid(0, 0, 0) == 0 && ::setresuid(0, 0, 0) == 0;
}

[[noreturn]] void exec_in_container(const ExecPlan& p, int status_fd) {
    ::umask(022);
    if (p.userns && !become_userns_root()) die(status_fd, "become root of the user namespace");
    if (::chdir(p.workdir) != 0) die(status_fd, "chdir to the working directory");
    if (!apply_capabilities(p.caps, p.last_cap)) die(status_fd, "drop capabilities");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die(status_fd, "prctl PR_SET_NO_NEW_PRIVS");
    // Last before exec: from here on only the profile's calls work (write and execve among them).
    if (p.seccomp && !load_seccomp_filter(p.seccomp)) die(status_fd, "load the seccomp filter");
    // No fd of the harness may reach the container.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    int err = ENOENT;
    for (const auto& c : p.candidates) {
        ::execve(c.c_str(), p.argv.data(), p.envp.data());
        if (errno != ENOENT && errno != ENOTDIR) {
            err = errno;
            break;
        }
    }
    errno = err;
    die(status_fd, p.what.c_str());
}

bool join_cgroup(const std::vector<int>& fds) {
    for (int fd : fds)
        if (::write(fd, "0", 1) != 1) return false;
    return true;
}

struct ChildContext {
    const std::vector<SetupOp>& ops;
    const ExecPlan& plan;
    const std::vector<int>& cgroup_fds;
    int status_w, go_r;
    int status_r, go_w;  // the parent's ends, closed in the child
    int null_fd;
    int mapped_r, mapped_w;  // userns: the parent says 'M' once it wrote our id maps; else -1
};

// The container's first process from clone to exec. Only syscalls on data the parent prepared:
// nothing allocates, so this is safe in a forked copy and on a shared address space alike.
int child_main(void* arg) {
    const auto& c = *static_cast<const ChildContext*>(arg);
    ::close(c.status_r);
    if (c.go_w >= 0) ::close(c.go_w);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die(c.status_w, "prctl PR_SET_PDEATHSIG");
    ::setsid();  // the harness, not the terminal, decides when the container dies
    ::umask(0);  // device nodes and directories get exactly the planned modes
    if (!join_cgroup(c.cgroup_fds)) die(c.status_w, "join the container's cgroup");
    if (::unshare(CLONE_NEWCGROUP) != 0) die(c.status_w, "unshare CLONE_NEWCGROUP");
    if (c.mapped_r >= 0) {  // until the maps exist we are the host's root without a name in here
        ::close(c.mapped_w);
        if (!await_mapped(c.mapped_r)) ::_exit(126);  // the parent gave up
        ::close(c.mapped_r);
        if (!become_userns_root()) die(c.status_w, "become root of the user namespace");
    }
    if (c.null_fd >= 0 && (::dup2(c.null_fd, 0) < 0 || ::dup2(c.null_fd, 1) < 0 || ::dup2(c.null_fd, 2) < 0))
        die(c.status_w, "redirect stdio to /dev/null");
    int err = 0;
    const char* what = nullptr;
    if (!apply_setup(c.ops, err, what)) {
        errno = err;
        die(c.status_w, what);
    }
    if (c.go_r >= 0) {
        if (!send_ready(c.status_w)) ::_exit(127);
        if (!await_go(c.go_r)) ::_exit(126);  // the parent gave up
    }
    exec_in_container(c.plan, c.status_w);
}

struct ExecHelper {
    const ExecPlan& plan;
    const std::vector<int>& cgroup_fds;
    int init_pidfd, ns_flags;
    int out_w, err_w, status_w;
    pid_t pid = -1;  // the command, filled in by the helper
    int pidfd = -1;
};

int exec_command_main(void* arg) {
    auto& h = *static_cast<ExecHelper*>(arg);
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // the container's /dev/null
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(h.out_w, 1) < 0 || ::dup2(h.err_w, 2) < 0)
        die(h.status_w, "set up stdio in the container");
    exec_in_container(h.plan, h.status_w);
}

int exec_helper_main(void* arg) {
    auto& h = *static_cast<ExecHelper*>(arg);
    // Join the cgroup before the cgroup namespace: migration is checked against the writer's view.
    if (!join_cgroup(h.cgroup_fds)) die(h.status_w, "join the container's cgroup");
    if (::setns(h.init_pidfd, h.ns_flags) != 0) die(h.status_w, "setns into the container");
    alignas(64) thread_local static char stack[128 * 1024];
    // CLONE_PARENT: the command is the harness's child, not ours, so we can leave at once.
    int pid = ::clone(exec_command_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD, &h,
                      &h.pidfd);
    if (pid < 0) die(h.status_w, "clone the command in the container");
    h.pid = pid;
    ::_exit(0);
}

// The child mounts its staging tmpfs on a host directory (in its own mount namespace only). It must
// not be the rootfs or a bind source, or an ancestor of one: the tmpfs would hide them.
Result<std::string> pick_stage(const Config& c) {
    auto hides = [](const fs::path& stage, const fs::path& p) {
        auto s = stage.string() + "/";
        return (p.string() + "/").starts_with(s);
    };
    for (const char* cand : {"/tmp", "/run", "/mnt", "/var/tmp", "/media", "/srv", "/opt"}) {
        struct stat st;
        if (::stat(cand, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        bool ok = !hides(cand, c.rootfs) && (c.layer_dir.empty() || !hides(cand, c.layer_dir));
        for (const auto& m : c.mounts) ok = ok && !hides(cand, m.source);
        if (ok) return std::string(cand);
    }
    return fail_msg("no host directory to stage the rootfs on: every candidate holds the rootfs or a mount source");
}

}  // namespace

namespace {

// What the child's setup is planned from: the config, a staging directory, what the kernel has.
Result<PlanInput> plan_input(const Config& config) {
    PlanInput in;
    auto stage = pick_stage(config);
    if (!stage) return fail(std::move(stage.error()));
    in.stage = *stage;
    in.rootfs_ref = config.rootfs.string();
    in.read_only_rootfs = config.read_only_rootfs;
    in.writable_bytes = config.writable_bytes;
    in.layer_dir = config.layer_dir.string();
    in.hostname = config.hostname.empty() ? config.name : config.hostname;
    in.own_netns = config.own_netns;
    in.userns = config.userns;
    in.kernel = &kernel_paths();
    for (const auto& m : config.mounts)
        in.binds.push_back({m.source.string(), m.target, m.read_only, fs::is_directory(m.source)});
    return in;
}

// How a process of the container (the first, or an exec'd one) becomes `argv`; `argv` and `config`
// must outlive the plan (it points into them).
ExecPlan exec_plan(const std::vector<std::string>& argv, const Config& config, std::uint64_t caps,
                   const sock_fprog* seccomp) {
    ExecPlan plan;
    plan.argv = c_array(argv);
    plan.envp = c_array(config.env);
    plan.candidates = exec_candidates(argv[0], config.env);
    plan.what = "exec " + argv[0];
    plan.workdir = config.workdir.c_str();
    plan.caps = caps;
    plan.last_cap = last_capability();
    plan.seccomp = seccomp;
    plan.userns = config.userns;
    return plan;
}

}  // namespace

int namespace_flags(bool own_netns, bool userns) {
    return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (own_netns ? CLONE_NEWNET : 0) |
           (userns ? CLONE_NEWUSER : 0);
}

Status check_config(const Config& c) {
    if (c.rootfs.empty() || !c.rootfs.is_absolute())
        return fail_msg("rootfs must be an absolute path, got '" + c.rootfs.string() + "'");
    struct stat st;
    if (::stat(c.rootfs.c_str(), &st) != 0) return fail_sys("rootfs " + c.rootfs.string());
    if (!S_ISDIR(st.st_mode)) return fail_msg("rootfs " + c.rootfs.string() + " is not a directory");
    if (c.argv.empty() || c.argv[0].empty()) return fail_msg("no command given");
    bool found = false;
    for (const auto& cand : exec_candidates(c.argv[0], c.env)) {
        if (cand.front() != '/') continue;
        // lstat: a symlink inside the image (busybox applets) points into the image, not the host.
        if (::lstat((c.rootfs.string() + cand).c_str(), &st) == 0) {
            found = true;
            break;
        }
    }
    if (!found) return fail_msg("command " + c.argv[0] + " not found in rootfs " + c.rootfs.string());
    if (c.workdir.empty() || c.workdir.front() != '/')
        return fail_msg("working directory must be absolute: '" + c.workdir + "'");
    if ((c.hostname.empty() ? c.name : c.hostname).size() > 64)
        return fail_msg("hostname longer than 64 characters (the name is the hostname unless one is given)");
    for (const auto& m : c.mounts) {
        if (m.target.empty() || m.target.front() != '/' || m.target.find("..") != std::string::npos)
            return fail_msg("mount target must be an absolute path without '..': '" + m.target + "'");
        if (::stat(m.source.c_str(), &st) != 0) return fail_sys("mount source " + m.source.string());
    }
    return {};
}

Result<std::unique_ptr<Sandbox>> Sandbox::create(const Config& config, Cgroup* cgroup, bool wait_for_start) {
    if (auto s = check_config(config); !s) return fail(std::move(s.error()));
    std::unique_ptr<Sandbox> c(new Sandbox());
    c->config_ = config;
    if (config.userns) {  // the image through its copy owned by the namespace's range
        auto rootfs = userns_rootfs(config.rootfs);
        if (!rootfs) return fail(std::move(rootfs.error()));
        c->config_.rootfs = *rootfs;
        if (!config.layer_dir.empty())
            if (auto s = shift_owner(config.layer_dir); !s) return fail(std::move(s.error()));
    }
    c->cgroup_ = cgroup;
    auto caps = container_capabilities(config.add_caps);
    if (!caps) return fail(std::move(caps.error()));
    c->caps_ = *caps;
    if (config.seccomp) {
        auto filter = default_seccomp_filter(c->caps_);
        if (!filter) return fail(std::move(filter.error()));
        c->seccomp_ = *filter;
    }
    c->ns_flags_ = namespace_flags(config.own_netns, config.userns) | CLONE_NEWCGROUP;

    auto in = plan_input(c->config_);
    if (!in) return fail(std::move(in.error()));
    const auto ops = plan_setup(*in);
    const ExecPlan plan = exec_plan(c->config_.argv, c->config_, c->caps_, c->seccomp_);

    Pipe status, go, mapped;
    if (auto s = status.open(); !s) return fail(std::move(s.error()));
    if (wait_for_start)
        if (auto s = go.open(); !s) return fail(std::move(s.error()));
    if (config.userns)
        if (auto s = mapped.open(); !s) return fail(std::move(s.error()));
    const int null_fd = config.inherit_stdio ? -1 : ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!config.inherit_stdio && null_fd < 0) return fail_sys("open /dev/null");
    if (cgroup) {
        auto oom = cgroup->oom_kills();
        c->oom_before_ = oom ? *oom : 0;
    }
    const std::vector<int> no_fds;
    const auto& cg_fds = cgroup ? cgroup->procs_fds() : no_fds;

    ChildContext ctx{ops, plan, cg_fds, status.w, go.r, status.r, go.w, null_fd, mapped.r, mapped.w};
    const int flags = namespace_flags(config.own_netns, config.userns) | CLONE_PIDFD | SIGCHLD;
    int pidfd = -1;
    long pid;
    // A child in a user namespace waits for its id maps, so the parent must go on even in run mode.
    if (!wait_for_start && !config.userns) {
        // Run mode: share the parent's memory and suspend it until the child execs (posix_spawn's
        // CLONE_VM | CLONE_VFORK). No page tables are copied and no copy-on-write faults follow,
        // which is most of what a fork costs here; safe because the parent does not run meanwhile.
        alignas(64) thread_local static char stack[256 * 1024];
        pid = ::clone(child_main, stack + sizeof stack, flags | CLONE_VM | CLONE_VFORK, &ctx, &pidfd);
    } else {
        // The child waits for start(), so the parent must go on: a forked copy of the memory.
        pid = ::syscall(SYS_clone, flags, nullptr, &pidfd, nullptr, 0);
        if (pid == 0) ::_exit(child_main(&ctx));
    }
    int clone_errno = errno;
    if (null_fd >= 0) ::close(null_fd);
    if (pid < 0)
        return fail_sys("clone (new mount, pid, uts, ipc" + std::string(config.own_netns ? ", net" : "") +
                            (config.userns ? ", user" : "") + " namespaces)",
                        clone_errno);
    c->pid_ = static_cast<pid_t>(pid);
    c->pidfd_ = pidfd;
    status.close_w();
    go.close_r();
    mapped.close_r();
    if (config.userns)
        if (auto s = c->map_ids(mapped.w); !s) {
            (void)c->kill();
            return fail(std::move(s.error()).wrap("container " + config.name));
        }
    mapped.close_w();
    c->status_fd_ = std::exchange(status.r, -1);
    c->go_fd_ = std::exchange(go.w, -1);
    if (!wait_for_start) return c;
    if (auto s = c->await_setup(); !s) return fail(std::move(s.error()));
    return c;
}

Status Sandbox::map_ids(int mapped_fd) {
    if (auto s = write_id_maps(pid_); !s) return s;
    if (::write(mapped_fd, &kMapped, 1) != 1) return fail_sys("tell the container its id maps are written");
    return {};
}

Status Sandbox::await_setup() {
    auto s = await_ready(status_fd_, 30'000);
    if (s) return {};
    (void)kill();
    return fail(std::move(s.error()).wrap("set up container " + config_.name));
}

Sandbox::~Sandbox() {
    (void)kill();
    if (status_fd_ >= 0) ::close(status_fd_);
    if (go_fd_ >= 0) ::close(go_fd_);
}

Status Sandbox::read_exec_confirmation() {
    auto s = await_exec(status_fd_);
    ::close(status_fd_);
    status_fd_ = -1;
    return s;
}

Status Sandbox::start() {
    if (pid_ <= 0) return fail_msg("container " + config_.name + " is not created");
    if (go_fd_ >= 0) {
        if (auto s = send_go(go_fd_); !s) return fail(std::move(s.error()).wrap("container " + config_.name));
        ::close(go_fd_);
        go_fd_ = -1;
    }
    if (status_fd_ < 0) return {};  // already confirmed
    if (auto s = read_exec_confirmation(); !s) {
        (void)kill();
        return fail(std::move(s.error()).wrap("start container " + config_.name));
    }
    return {};
}

void Sandbox::reap(int* status) {
    const int st = wait_reaping_tracees(pid_, pidfd_);
    if (status) *status = st;
    if (pidfd_ >= 0) ::close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
}

Status Sandbox::kill() {
    if (pid_ <= 0) return {};
    // SIGKILL to PID 1 of the namespace: the kernel kills every other process in it before PID 1's
    // exit completes (pid_namespaces(7)), so once it is reaped the container is empty.
    if (::kill(pid_, SIGKILL) != 0 && errno != ESRCH) return fail_sys("kill container " + config_.name);
    reap(nullptr);
    return {};
}

Result<ExecResult> Sandbox::wait(std::optional<std::chrono::milliseconds> timeout) {
    if (pid_ <= 0) return fail_msg("container " + config_.name + " is not running");
    // A thread of the first process that made us its tracer (PTRACE_TRACEME) holds the
    // container's end until we reap it: await_exit does.
    const auto deadline =
        timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
    if (!await_exit(pid_, pidfd_, deadline)) {
        if (errno != ETIMEDOUT) return fail_sys("wait for container " + config_.name);
        ExecResult r;
        r.timed_out = true;
        return r;
    }
    int st = 0;
    reap(&st);
    // In run mode nobody read the status pipe yet: an exec failure is told there.
    if (status_fd_ >= 0)
        if (auto s = read_exec_confirmation(); !s)
            return fail(std::move(s.error()).wrap("run container " + config_.name));
    ExecResult r;
    set_exit_status(r, st);
    if (cgroup_)
        if (auto oom = cgroup_->oom_kills(); oom && *oom > oom_before_) r.oom_killed = true;
    return r;
}

Result<ExecResult> Sandbox::exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return fail_msg("container " + config_.name + " is not running");
    if (argv.empty()) return fail_msg("exec: no command given");
    const ExecPlan plan = exec_plan(argv, config_, caps_, seccomp_);
    Pipe out, err, st;
    for (Pipe* p : {&out, &err, &st})
        if (auto s = p->open(); !s) return fail(std::move(s.error()));
    std::uint64_t oom0 = 0;
    if (cgroup_)
        if (auto o = cgroup_->oom_kills(); o) oom0 = *o;
    const std::vector<int> no_fds;
    const auto& cg_fds = cgroup_ ? cgroup_->procs_fds() : no_fds;

    // The helper shares our memory and runs while we are suspended (CLONE_VM | CLONE_VFORK): it joins
    // the cgroup, enters the namespaces and spawns the command with CLONE_PARENT, so the command is
    // our own child, then exits. No copy of the harness's memory is made at any step.
    ExecHelper h{plan, cg_fds, pidfd_, ns_flags_, out.w, err.w, st.w};
    alignas(64) thread_local static char helper_stack[128 * 1024];
    int helper = ::clone(exec_helper_main, helper_stack + sizeof helper_stack,
                         CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &h);
    if (helper < 0) return fail_sys("clone the exec helper");
    while (::waitpid(helper, nullptr, __WALL) < 0 && errno == EINTR) {
    }
    out.close_w();
    err.close_w();
    st.close_w();
    if (h.pid <= 0) {
        // The helper failed before the command existed: its error is on the status pipe.
        auto s = await_exec(st.r);
        Error e = s ? Error::msg("the helper ended without a word") : std::move(s.error());
        return fail(std::move(e).wrap("exec in container " + config_.name));
    }
    // The command is our child: wait for it as for any other process; a timeout or an interrupt
    // kills only the command (stop() takes the rest). A background child that keeps the pipes open
    // does not hold the exec up.
    ChildProcess child;
    child.pid = h.pid;
    child.pidfd.reset(h.pidfd);
    child.out.reset(std::exchange(out.r, -1));
    child.err.reset(std::exchange(err.r, -1));
    auto collected = collect(child, timeout);
    if (!collected) return fail(std::move(collected.error()).wrap("exec " + argv[0] + " in container " + config_.name));
    ExecResult result = std::move(*collected);
    // execve failed: the command wrote why before exiting 127.
    if (auto s = await_exec(st.r); !s) return fail(std::move(s.error()).wrap("in container " + config_.name));
    if (cgroup_)
        if (auto o = cgroup_->oom_kills(); o && *o > oom0) result.oom_killed = true;
    return result;
}

}  // namespace ctrbench::lean
