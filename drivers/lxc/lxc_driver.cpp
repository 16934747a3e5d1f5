#include "drivers/lxc/lxc_driver.h"

#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/process.h"
#include "drivers/common/capabilities.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/lxc_monitor.h"
#include "drivers/common/veth.h"

namespace ctrbench::lxc {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Items = std::vector<std::pair<std::string, std::string>>;

// lxc's own default filter, the one its common.conf loads (a deny list: kexec, module loading,
// open_by_handle_at, forced umount).
constexpr const char* kLxcSeccompProfile = "/usr/share/lxc/config/common.seccomp";

// liblxc logs to stderr unless told otherwise, and a driver never prints: its messages go to each
// container's log (lxc.log.file), where an error is read back from.
void quiet_liblxc() {
    static std::once_flag once;
    std::call_once(once, [] {
        lxc_log log{};
        log.name = "ctrbench";
        log.lxcpath = kLxcPath;
        log.file = "none";
        log.level = "ERROR";
        log.prefix = "ctrbench";
        log.quiet = true;
        (void)lxc_log_init(&log);
    });
}

// The last ERROR line of a container's log, without its prefix: the reason liblxc gives.
std::string last_error(const fs::path& log) {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find("ERROR") != std::string::npos) last = line;
    if (auto p = last.find(" - "); p != std::string::npos) last = last.substr(p + 3);
    return last;
}

bool cgroup_v2_host() {
    auto layout = discover_cgroups();
    return layout && layout->version == CgroupVersion::V2;
}

// Owns one liblxc handle (lxc_container_new's reference).
struct HandleDeleter {
    void operator()(lxc_container* c) const { lxc_container_put(c); }
};
using Handle = std::unique_ptr<lxc_container, HandleDeleter>;

Handle open_container(const std::string& name) {
    quiet_liblxc();
    return Handle(lxc_container_new(name.c_str(), kLxcPath));
}

// What the attached process runs once liblxc has put it in the container (its stdio already the
// pipes): lxc_attach_run_command's exec, after closing every descriptor above stderr, which
// liblxc leaves open (the originals of the pipes, and its own): a command must not inherit them.
constexpr std::string_view kExecFailed = "ctrbench: cannot run ";
int exec_in_container(void* payload) {
    auto* cmd = static_cast<lxc_attach_command_t*>(payload);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execvp(cmd->program, cmd->argv);
    const int err = errno;
    std::string msg = std::string(kExecFailed) + cmd->program + ": " + std::strerror(err) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    return 127;
}

std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

// NULL-terminated char* views of strings that outlive them.
std::vector<char*> c_argv(std::vector<std::string>& v) {
    std::vector<char*> a;
    for (auto& s : v) a.push_back(s.data());
    a.push_back(nullptr);
    return a;
}

class LxcContainer final : public Container {
public:
    LxcContainer(Handle c, ContainerSpec spec) : c_(std::move(c)), spec_(std::move(spec)) {}
    ~LxcContainer() override {
        (void)stop();
        (void)clean();
    }

    Status start() override {
        // liblxc's start moves its caller into the container's monitor cgroup (where lxc-start,
        // which exits, would be): started from a child of ours that exits at once, as lxc-start and
        // LXD's forkstart do, so that this process stays where it is and the monitor's cgroup goes
        // with the monitor. The monitor closes every inherited descriptor.
        c_->want_daemonize(c_.get(), true);
        c_->want_close_all_fds(c_.get(), true);
        auto argv = spec_.init;
        auto a = c_argv(argv);
        const pid_t starter = ::fork();
        if (starter < 0) return fail_sys("fork (lxc start " + spec_.name + ")");
        if (starter == 0) ::_exit(c_->start(c_.get(), 0, a.data()) ? 0 : 1);
        int status = 0;
        while (::waitpid(starter, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail_msg(start_error());
        started_ = true;
        init_pid_ = c_->init_pid(c_.get());
        if (init_pid_ <= 0) return fail_msg(start_error());
        if (auto cg = memory_cgroup_of(init_pid_)) memory_cgroup_ = *cg;
        if (spec_.network == NetworkMode::Own) {
            auto l = attach_veth(init_pid_);
            if (!l) return fail(std::move(l.error()).wrap("lxc " + spec_.name));
            link_ = *l;
        }
        return {};
    }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        if (argv.empty()) return fail_msg("lxc attach: no command");
        int out[2], err[2];
        if (::pipe2(out, O_CLOEXEC) != 0) return fail_sys("pipe");
        UniqueFd out_r(out[0]), out_w(out[1]);
        if (::pipe2(err, O_CLOEXEC) != 0) return fail_sys("pipe");
        UniqueFd err_r(err[0]), err_w(err[1]);
        UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        auto args = argv;
        auto a = c_argv(args);
        auto env = spec_.env;
        auto e = c_argv(env);
        std::string cwd = spec_.workdir;
        lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
        opts.env_policy = LXC_ATTACH_CLEAR_ENV;
        opts.extra_env_vars = e.data();
        opts.initial_cwd = cwd.data();
        opts.stdin_fd = null_in.get();
        opts.stdout_fd = out_w.get();
        opts.stderr_fd = err_w.get();
        lxc_attach_command_t cmd{a[0], a.data()};
        std::uint64_t oom0 = oom_kill_count(memory_cgroup_);
        pid_t pid = -1;
        if (c_->attach(c_.get(), exec_in_container, &cmd, &opts, &pid) != 0 || pid <= 0)
            return fail_msg("lxc attach " + spec_.name + " " + argv[0] + ": " + last_error(log_path()));
        out_w.reset();
        err_w.reset();
        ChildProcess child;
        child.pid = pid;
        child.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        child.out = std::move(out_r);
        child.err = std::move(err_r);
        auto r = collect(child, timeout);
        if (!r) return fail(std::move(r.error()));
        // The command could not be executed at all: an error, as the other engines' exec says.
        if (r->exit_code == 127 && r->err.starts_with(kExecFailed))
            return fail_msg("lxc attach " + spec_.name + ": cannot run " +
                            first_line(r->err.substr(kExecFailed.size())));
        r->oom_killed = oom_kill_count(memory_cgroup_) > oom0;
        return r;
    }

    Status stop() override {
        if (!started_ || stopped_) return {};
        if (stop_wedged_monitor(init_pid_, spec_.name)) {
            stopped_ = true;
            return {};
        }
        if (c_->is_running(c_.get()) && !c_->stop(c_.get()) && c_->is_running(c_.get()))
            return fail_msg("lxc stop " + spec_.name + ": " + last_error(log_path()));
        if (!c_->wait(c_.get(), "STOPPED", 30))
            return fail_msg("lxc stop " + spec_.name + ": still running after 30 s");
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (cleaned_) return {};
        if (c_->is_running(c_.get())) {
            if (auto s = stop(); !s) return s;
        }
        if (c_->is_defined(c_.get()) && !c_->destroy(c_.get()))
            return fail_msg("lxc destroy " + spec_.name + ": " + last_error(log_path()));
        std::error_code ec;
        fs::remove_all(fs::path(kLxcPath) / spec_.name, ec);  // what destroy does not know of (a config never saved)
        cleaned_ = true;
        return {};
    }

    Result<std::string> endpoint(int port) override { return link_endpoint(link_, port); }
    Result<std::string> host_end() override { return link_host_end(link_); }

private:
    fs::path log_path() const { return fs::path(kLxcPath) / spec_.name / "lxc.log"; }
    std::string start_error() const {
        auto why = last_error(log_path());
        return "lxc start " + spec_.name + " (" + spec_.init.front() + "): " + (why.empty() ? "failed" : why);
    }

    Handle c_;
    ContainerSpec spec_;
    fs::path memory_cgroup_;
    std::optional<VethLink> link_;
    pid_t init_pid_ = -1;
    bool started_ = false, stopped_ = false, cleaned_ = false;
};

// "cap_chown,CAP_KILL" -> "chown kill": lxc.cap.keep's spelling.
std::string lxc_cap_list(std::uint64_t mask) {
    std::string list = describe_mask(mask), out;
    std::istringstream in(list);
    for (std::string cap; std::getline(in, cap, ',');) {
        std::transform(cap.begin(), cap.end(), cap.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (cap.rfind("cap_", 0) == 0) cap = cap.substr(4);
        out += (out.empty() ? "" : " ") + cap;
    }
    return out;
}

}  // namespace

Capabilities LxcDriver::capabilities() const {
    Capabilities c;
    c.own_network = true;  // ctrbench's veth link
    c.read_only_rootfs = true;
    c.unconfined_seccomp = true;
    return c;
}

Result<Items> LxcDriver::config_items(const ContainerSpec& spec, bool cgroup_v2) {
    const fs::path dir = fs::path(kLxcPath) / spec.name;
    Items items = {
        {"lxc.rootfs.path", "overlay:" + spec.rootfs.string() + ":" + (dir / "overlay" / "delta").string()},
        {"lxc.uts.name", spec.hostname.empty() ? spec.name : spec.hostname},
        {"lxc.log.file", (dir / "lxc.log").string()},
        {"lxc.log.level", "ERROR"},
        // No consoles or ttys: the first process is not a login; attach gets pipes.
        {"lxc.tty.max", "0"},
        {"lxc.pty.max", "16"},
        {"lxc.console.path", "none"},
        {"lxc.autodev", "1"},
        {"lxc.mount.auto", "proc:mixed sys:ro"},
        {"lxc.init.cwd", spec.workdir},
        {"lxc.apparmor.profile", "unconfined"},  // these hosts have no AppArmor
    };
    auto add = [&](std::string k, std::string v) { items.emplace_back(std::move(k), std::move(v)); };
    add("lxc.net.0.type", spec.network == NetworkMode::Host ? "none" : "empty");
    for (const auto& e : spec.env) add("lxc.environment", e);
    if (spec.read_only_rootfs) {
        add("lxc.rootfs.options", "ro");
        add("lxc.mount.entry",
            "tmpfs tmp tmpfs rw,nosuid,nodev,size=" + std::to_string(spec.limits.writable_bytes) + " 0 0");
    }
    for (const auto& m : spec.mounts) {
        std::error_code ec;
        const char* create = fs::is_directory(m.source, ec) ? "create=dir" : "create=file";
        add("lxc.mount.entry", m.source.string() + " " + m.target.substr(m.target.find_first_not_of('/')) +
                                   " none bind," + (m.read_only ? "ro," : "") + create + " 0 0");
    }
    auto mask = capability_mask(spec.add_caps);
    if (!mask) return fail(std::move(mask.error()));
    add("lxc.cap.keep", lxc_cap_list(*mask));
    if (spec.seccomp) add("lxc.seccomp.profile", kLxcSeccompProfile);
    // Limits and device rules, as lxc's common.conf has them (null, zero, full, tty, random, ptys).
    const std::string cg = cgroup_v2 ? "lxc.cgroup2." : "lxc.cgroup.";
    if (spec.limits.memory_bytes) {
        const auto bytes = std::to_string(spec.limits.memory_bytes);
        add(cg + (cgroup_v2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
        // No swap beyond the limit, as every driver.
        if (cgroup_v2)
            add(cg + "memory.swap.max", "0");
        else if (fs::exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
            add(cg + "memory.memsw.limit_in_bytes", bytes);
    }
    if (spec.limits.pids) add(cg + "pids.max", std::to_string(spec.limits.pids));
    if (spec.limits.cpus > 0) {
        const auto quota = std::to_string(static_cast<long>(spec.limits.cpus * 100000));
        if (cgroup_v2)
            add(cg + "cpu.max", quota + " 100000");
        else {
            add(cg + "cpu.cfs_period_us", "100000");
            add(cg + "cpu.cfs_quota_us", quota);
        }
    }
    add(cg + "devices.deny", "a");
    for (const char* dev : {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 5:1 rwm",
                            "c 5:2 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 136:* rwm"})
        add(cg + "devices.allow", dev);
    return items;
}

Probe LxcDriver::probe() {
    Probe p;
    p.runtime = "lxc";
    p.storage = "dir";  // an overlay over the image directory, lxc's snapshot of a dir container
    p.versions["liblxc"] = lxc_get_version();
    if (::geteuid() != 0) {
        p.reason = "needs root (privileged LXC containers)";
        return p;
    }
    if (!fs::exists(kLxcSeccompProfile)) {
        p.reason =
            std::string("lxc is not installed (no ") + kLxcSeccompProfile + "; ansible-playbook playbooks/lxc.yml)";
        return p;
    }
    p.available = true;
    return p;
}

std::vector<std::string> LxcDriver::sweep_dead() {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kLxcPath, ec)) {
        auto name = e.path().filename().string();
        if (!owner_gone(name)) continue;
        if (auto c = open_container(name)) {
            if (c->is_running(c.get()) && !stop_wedged_monitor(c->init_pid(c.get()), name)) {
                (void)c->stop(c.get());
                (void)c->wait(c.get(), "STOPPED", 30);
            }
            if (c->is_defined(c.get())) (void)c->destroy(c.get());
        }
        std::error_code rec;
        fs::remove_all(e.path(), rec);
        removed.push_back("lxc container " + name);
    }
    for (auto& r : sweep_lxc_cgroups()) removed.push_back(std::move(r));
    return removed;
}

Result<std::unique_ptr<Container>> LxcDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    std::error_code ec;
    if (!fs::is_directory(spec.rootfs, ec))
        return fail_msg("lxc " + spec.name + ": the image's rootfs " + spec.rootfs.string() +
                        " does not exist (cmake --build build --target images)");
    // A first process that is not in the image would only fail inside lxc's monitor after start
    // has returned: say so here, in one line.
    if (spec.init.front().find('/') != std::string::npos && !fs::exists(spec.rootfs / spec.init.front().substr(1)))
        return fail_msg("lxc " + spec.name + ": the first process " + spec.init.front() + " is not in the image " +
                        spec.rootfs.string());
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    static const bool v2 = cgroup_v2_host();
    auto items = config_items(spec, v2);
    if (!items) return fail(std::move(items.error()));
    const fs::path dir = fs::path(kLxcPath) / spec.name;
    fs::create_directories(dir / "overlay" / "delta", ec);
    if (ec) return fail_msg("mkdir " + (dir / "overlay" / "delta").string() + ": " + ec.message());
    auto handle = open_container(spec.name);
    if (!handle) {
        fs::remove_all(dir, ec);
        return fail_msg("lxc_container_new " + spec.name + ": failed");
    }
    auto* c = handle.get();
    auto container = std::make_unique<LxcContainer>(std::move(handle), spec);  // cleans on every error below
    for (const auto& [key, value] : *items)
        if (!c->set_config_item(c, key.c_str(), value.c_str()))
            return fail_msg("lxc " + spec.name + ": config item " + key + " = " + value + " refused");
    if (!c->save_config(c, nullptr))
        return fail_msg("lxc " + spec.name + ": cannot save its config in " + dir.string());
    return std::unique_ptr<Container>(std::move(container));
}

}  // namespace ctrbench::lxc
