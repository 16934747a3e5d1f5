#include "drivers/oci/oci_driver.h"

#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "core/process.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/layer.h"
#include "drivers/common/oci_config.h"
#include "drivers/common/veth.h"

namespace ctrbench::oci {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kVerbTimeout = 60s;  // runsc's delete alone takes over a second here (HOST-NOTES)

// The parent pid of `pid` (/proc/<pid>/stat's fourth field), or -1.
pid_t parent_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

// Everything create() made, undone in reverse by remove(): the bundle's tmpfs and overlay mounts,
// the bundle directory, and the runtime's container.
class OciContainer final : public Container {
public:
    OciContainer(std::vector<std::string> prefix, std::string name, fs::path bundle, std::chrono::milliseconds timeout)
        : prefix_(std::move(prefix)), name_(std::move(name)), bundle_(std::move(bundle)), timeout_(timeout) {}
    ~OciContainer() override { (void)clean(); }

    // The bundle: config.json, and the rootfs an overlay over the image whose upper layer lives in
    // the bundle, on disk (LayerStorage::Disk: the bundle is under kLayerRoot) or on a tmpfs
    // mounted on the bundle. The same storage as the lean driver's.
    Status mount_rootfs(const ContainerSpec& spec, LayerStorage storage) {
        std::error_code ec;
        fs::create_directories(bundle_, ec);
        if (ec) return fail(Error::sys(ec.value(), "mkdir " + bundle_.string()));
        bundle_made_ = true;
        if (storage == LayerStorage::Tmpfs) {
            std::string size = "size=" + std::to_string(spec.limits.writable_bytes) + ",mode=0755";
            if (::mount("tmpfs", bundle_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, size.c_str()) != 0)
                return fail_sys("mount tmpfs on " + bundle_.string());
            tmpfs_mounted_ = true;
        }
        for (const char* d : {"upper", "work", "rootfs"}) fs::create_directory(bundle_ / d);
        std::string data = "lowerdir=" + spec.rootfs.string() + ",upperdir=" + (bundle_ / "upper").string() +
                           ",workdir=" + (bundle_ / "work").string();
        if (::mount("overlay", (bundle_ / "rootfs").c_str(), "overlay", 0, data.c_str()) != 0)
            return fail_sys("mount overlay on " + (bundle_ / "rootfs").string());
        overlay_mounted_ = true;
        return {};
    }

    Status write_config(const nlohmann::json& config) {
        std::ofstream out(bundle_ / "config.json");
        out << config.dump();
        if (!out) return fail_sys("write " + (bundle_ / "config.json").string());
        return {};
    }

    // `adopt`: the harness is the init's subreaper while the runtime creates it, so the detached init
    // becomes the harness's child rather than the host PID 1's: a payload thread that asks to be
    // traced by its parent (PTRACE_TRACEME) then has the harness as tracer, which reaps it; under a
    // PID 1 that never reaps traced threads the init would stay a zombie for good (issue 13).
    Status runtime_create(bool adopt) {
        int was = 0;
        ::prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0);
        if (adopt) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        auto r = run_process(
            verb({"create", "--bundle", bundle_.string(), "--pid-file", (bundle_ / "init.pid").string(), name_}),
            timeout_);
        if (adopt) ::prctl(PR_SET_CHILD_SUBREAPER, was, 0, 0, 0);
        if (!r) return fail(std::move(r.error()));
        created_ = true;  // even a failed create may leave state (a runsc sandbox): delete it in clean
        if (!r->ok()) return fail_msg(r->describe(verb({"create", name_})));
        std::ifstream pidf(bundle_ / "init.pid");
        pidf >> init_pid_;
        adopted_ = adopt && init_pid_ > 0 && parent_of(init_pid_) == ::getpid();
        return {};
    }

    // An adopted init, once killed: reaped (its traced threads first), at most `timeout_`.
    void reap_adopted_init() {
        if (!adopted_) return;
        UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, init_pid_, 0)));
        if (pidfd) (void)await_exit(init_pid_, pidfd.get(), std::chrono::steady_clock::now() + timeout_);
        if (::waitpid(init_pid_, nullptr, WNOHANG) == init_pid_) adopted_ = false;
    }

    Status start() override {
        auto r = run_checked(verb({"start", name_}), timeout_);
        if (!r) return fail(std::move(r.error()));
        return {};
    }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        auto args = verb({"exec", name_});
        args.insert(args.end(), argv.begin(), argv.end());
        std::uint64_t oom0 = oom_kills();
        auto r = run_process(args, timeout);
        if (!r) return fail(std::move(r.error()));
        ExecResult e;
        e.out = std::move(r->out);
        e.err = std::move(r->err);
        e.timed_out = r->timed_out;
        e.exit_code = r->exit_code;
        e.signal = r->signal;
        e.oom_killed = oom_kills() > oom0;
        return e;
    }

    Status stop() override {
        if (!created_ || stopped_) return {};
        int pidfd = init_pid_ > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, init_pid_, 0)) : -1;
        auto r = run_process(verb({"kill", name_, "KILL"}), timeout_);
        if (!r) {
            if (pidfd >= 0) ::close(pidfd);
            return fail(std::move(r.error()));
        }
        // Wait until the container's init is gone: the runtime's kill only sends the signal.
        bool gone = pidfd < 0;
        if (adopted_) {
            if (pidfd >= 0) ::close(pidfd);
            reap_adopted_init();
            gone = !adopted_;
        } else if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            gone = ::poll(&p, 1, static_cast<int>(timeout_.count())) == 1;
            ::close(pidfd);
        }
        if (!gone) return fail_msg(name_ + ": init " + std::to_string(init_pid_) + " still alive after kill");
        stopped_ = true;
        return {};
    }

    Status clean() override {
        Status first;
        auto keep = [&](Status s) {
            if (first && !s) first = std::move(s);
        };
        if (created_) {
            auto r = run_process(verb({"delete", "--force", name_}), timeout_);
            if (!r)
                keep(fail(std::move(r.error())));
            else if (!r->ok() && r->err.find("not exist") == std::string::npos &&
                     r->err.find("not found") == std::string::npos)
                keep(fail_msg(r->describe(verb({"delete", name_}))));
            else
                created_ = false;
        }
        reap_adopted_init();  // delete --force killed it
        if (overlay_mounted_) {
            if (::umount2((bundle_ / "rootfs").c_str(), MNT_DETACH) == 0)
                overlay_mounted_ = false;
            else
                keep(fail_sys("umount " + (bundle_ / "rootfs").string()));
        }
        if (tmpfs_mounted_) {
            if (::umount2(bundle_.c_str(), MNT_DETACH) == 0)
                tmpfs_mounted_ = false;
            else
                keep(fail_sys("umount " + bundle_.string()));
        }
        if (bundle_made_ && !tmpfs_mounted_) {
            std::error_code ec;
            fs::remove_all(bundle_, ec);
            bundle_made_ = false;
        }
        return first;
    }

    // NetworkMode::Own: a veth link into the namespace the runtime made (runc and crun give none).
    Status attach_link() {
        auto l = attach_veth(init_pid_);
        if (!l) return fail(std::move(l.error()));
        link_ = *l;
        return {};
    }
    Result<std::string> endpoint(int port) override { return link_endpoint(link_, port); }
    Result<std::string> host_end() override { return link_host_end(link_); }

    // The memory cgroup the runtime made for the container, for counting OOM kills.
    void set_memory_cgroup(fs::path dir) { memory_cgroup_ = std::move(dir); }
    int init_pid() const { return init_pid_; }

private:
    std::vector<std::string> verb(std::vector<std::string> args) const {
        auto all = prefix_;
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }
    std::uint64_t oom_kills() const { return oom_kill_count(memory_cgroup_); }

    std::vector<std::string> prefix_;
    std::string name_;
    fs::path bundle_;
    std::chrono::milliseconds timeout_;
    fs::path memory_cgroup_;
    std::optional<VethLink> link_;  // gone with the container's network namespace
    int init_pid_ = -1;
    bool adopted_ = false;  // the init is our child (runtime_create's adopt): we reap it
    bool bundle_made_ = false, tmpfs_mounted_ = false, overlay_mounted_ = false, created_ = false, stopped_ = false;
};

std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

// Containers and bundles of ctrbench processes that died without cleaning (killed, power loss):
// tmpfs bundles under kStateRoot, bundles on disk under kLayerRoot.
std::vector<std::string> sweep_stale(const std::vector<std::string>& prefix, const std::string& runtime) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& bundles : {fs::path(kStateRoot) / "bundles", layer_dir(runtime, "")}) {
        for (const auto& e : fs::directory_iterator(bundles, ec)) {
            auto name = e.path().filename().string();
            if (!owner_gone(name)) continue;
            auto del = prefix;
            del.insert(del.end(), {"delete", "--force", name});
            (void)run_process(del, 30s);
            ::umount2((e.path() / "rootfs").c_str(), MNT_DETACH);
            ::umount2(e.path().c_str(), MNT_DETACH);
            std::error_code rec;
            fs::remove_all(e.path(), rec);
            removed.push_back(runtime + " container and bundle " + e.path().string());
        }
    }
    return removed;
}

}  // namespace

OciDriver::OciDriver(std::string runtime) : runtime_(std::move(runtime)) {
    binary_ = find_program(runtime_);
}

std::string OciDriver::description() const {
    if (runtime_ == "runsc") return "gVisor's OCI runtime (user-space kernel, ptrace platform), driven by its CLI";
    return "the " + runtime_ + " OCI runtime, driven by its CLI";
}

Status OciDriver::use_storage(const std::string& storage) {
    auto s = parse_layer_storage(runtime_, storage);
    if (!s) return fail(std::move(s.error()));
    storage_ = *s;
    return {};
}

Capabilities OciDriver::capabilities() const {
    Capabilities c;
    c.read_only_rootfs = true;
    // runsc runs with --network=none here (its sandbox network fails on this kind of host, HOST-NOTES).
    c.own_network = runtime_ != "runsc";
    c.host_sees_oom = runtime_ != "runsc";  // gVisor's own kernel accounts the memory
    if (!c.own_network)
        c.no_network_why = "runsc runs with --network=none (gVisor's sandbox network fails on this kind of host)";
    return c;
}

std::vector<std::string> OciDriver::command_prefix(const ContainerSpec& spec) const {
    std::vector<std::string> p = {binary_, "--root", std::string(kStateRoot) + "/" + runtime_};
    if (runtime_ == "runsc") {
        p.push_back("--platform=ptrace");
        p.push_back(spec.network == NetworkMode::Host ? "--network=host" : "--network=none");
    }
    return p;
}

Probe OciDriver::probe() {
    Probe p;
    p.runtime = runtime_;
    p.storage = layer_storage_name(storage_);
    if (binary_.empty()) {
        p.reason = runtime_ + " is not installed (apt-get install " + runtime_ + ")";
        return p;
    }
    auto v = run_process({binary_, "--version"}, 10s);
    if (!v || !v->ok()) {
        p.reason = runtime_ + " --version failed: " + (v ? v->describe({binary_, "--version"}) : v.error().message());
        return p;
    }
    p.versions[runtime_] = first_line(v->out);
    if (runtime_ == "runsc") p.versions["gvisor_platform"] = "ptrace";  // what command_prefix passes
    if (::geteuid() != 0) {
        p.reason = "needs root (rootful " + runtime_ + ")";
        return p;
    }
    // crun 1.8 refuses a hybrid host while cgroup2 still holds a controller (HOST-NOTES).
    if (runtime_ == "crun") {
        std::ifstream ctl("/sys/fs/cgroup/unified/cgroup.controllers");
        std::string c;
        if (ctl >> c)
            if (!fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
                p.reason = "crun refuses cgroup hybrid mode while cgroup2 holds controllers (" + c +
                           "): mount a v1 hierarchy for them (playbooks/roles/cgroup_hybrid)";
                return p;
            }
    }
    p.available = true;
    return p;
}

std::vector<std::string> OciDriver::sweep_dead() {
    if (binary_.empty()) return {};
    return sweep_stale(command_prefix(ContainerSpec{}), runtime_);
}

Result<std::unique_ptr<Container>> OciDriver::create(const ContainerSpec& spec) {
    if (binary_.empty()) return fail_msg(runtime_ + " is not installed");
    auto prefix = command_prefix(spec);
    std::call_once(swept_, [&] { (void)sweep_stale(prefix, runtime_); });
    ConfigOptions opts;
    opts.cgroups_path = spec.name;  // relative: nested under our own cgroup, removed by delete
    auto config = make_config(spec, opts);
    if (!config) return fail(std::move(config.error()));
    auto bundle =
        storage_ == LayerStorage::Disk ? layer_dir(runtime_, spec.name) : fs::path(kStateRoot) / "bundles" / spec.name;
    auto c = std::make_unique<OciContainer>(prefix, spec.name, bundle,
                                            std::chrono::duration_cast<std::chrono::milliseconds>(kVerbTimeout));
    if (auto s = c->mount_rootfs(spec, storage_); !s) return fail(std::move(s.error()));
    if (auto s = c->write_config(*config); !s) return fail(std::move(s.error()));
    // crun and runc leave the init alone, detached: adopt it. runsc's sandbox is a tree of its own
    // processes (and gVisor's ptrace never reaches the host's).
    if (auto s = c->runtime_create(runtime_ != "runsc"); !s) return fail(std::move(s.error()));
    if (spec.network == NetworkMode::Own) {
        if (!capabilities().own_network)
            return fail_msg(runtime_ + ": network mode 'own' is not supported (it runs with --network=none)");
        if (auto s = c->attach_link(); !s) return fail(std::move(s.error()));
    }
    // Where the runtime put the container's cgroup differs (runc nests a relative path under its own
    // cgroup, crun under the root): read it from the container's init.
    if (c->init_pid() > 0)
        if (auto where = memory_cgroup_of(c->init_pid())) c->set_memory_cgroup(*where);
    return std::unique_ptr<Container>(std::move(c));
}

}  // namespace ctrbench::oci
