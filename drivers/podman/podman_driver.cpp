#include "drivers/podman/podman_driver.h"

#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/process.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/managed_engine.h"

namespace ctrbench::podman {
namespace {
// Where playbooks/roles/btrfs_loop mounts the btrfs filesystem (a loop file) of the btrfs
// candidates; podman's btrfs store lives under it.
constexpr const char* kBtrfsStorageMount = "/var/lib/ctrbench/btrfs";

namespace fs = std::filesystem;
using namespace std::chrono_literals;
constexpr auto kVerbTimeout = 60s;
constexpr auto kCheckpointTimeout = 600s;  // a dump or restore of GBs of memory

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

class PodmanContainer final : public Container {
public:
    PodmanContainer(std::vector<std::string> base, std::string name) : base_(std::move(base)), name_(std::move(name)) {}
    ~PodmanContainer() override { (void)clean(); }

    Status start() override {
        if (auto r = run_checked(cmd({"start", name_}), kVerbTimeout); !r) return fail(std::move(r.error()));
        look();
        return {};
    }

    // The init's pid (for the memory cgroup, where OOM kills are counted) and the network settings
    // (published ports, the bridge's gateway), in one inspect: after a start or a restore.
    void look() {
        auto info =
            run_process(cmd({"inspect", "--format", "{{.State.Pid}} {{json .NetworkSettings}}", name_}), kVerbTimeout);
        if (info && info->ok()) {
            if (auto cg = memory_cgroup_of(std::atoi(info->out.c_str()))) memory_cgroup_ = *cg;
            auto sp = info->out.find(' ');
            if (sp != std::string::npos) network_ = nlohmann::json::parse(info->out.substr(sp + 1), nullptr, false);
        }
    }

    Result<std::string> endpoint(int port) override { return published_endpoint(network_, port); }
    Result<std::string> host_end() override { return bridge_gateway(network_); }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        auto args = cmd({"exec", name_});
        args.insert(args.end(), argv.begin(), argv.end());
        std::uint64_t oom0 = oom_kill_count(memory_cgroup_);
        auto r = run_process(args, timeout);
        if (!r) return fail(std::move(r.error()));
        // podman exec's own failures: 125 (podman), 126 (not executable), 127 (not found).
        if (r->exit_code == 125 || (r->exit_code >= 126 && r->err.find("OCI runtime") != std::string::npos))
            return fail_msg(r->describe(args));
        ExecResult e;
        e.out = std::move(r->out);
        e.err = std::move(r->err);
        e.timed_out = r->timed_out;
        e.exit_code = r->exit_code;
        decode_signal_exit(e);
        e.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
        return e;
    }

    Status checkpoint(const fs::path& file) override {
        // Uncompressed: gzip of a large process's memory would be most of the dump's time.
        if (auto r =
                run_checked(cmd({"container", "checkpoint", "--export", file.string(), "--compress", "none", name_}),
                            kCheckpointTimeout);
            !r)
            return fail(std::move(r.error()).wrap("checkpoint " + name_));
        stopped_ = true;
        return {};
    }

    Status stop() override {
        if (stopped_) return {};
        auto k = run_process(cmd({"kill", "--signal", "KILL", name_}), kVerbTimeout);
        if (!k) return fail(std::move(k.error()));
        if (auto w = run_checked(cmd({"wait", name_}), kVerbTimeout); !w) return fail(std::move(w.error()));
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (removed_) return {};
        auto r = run_process(cmd({"rm", "--force", name_}), kVerbTimeout);
        if (!r) return fail(std::move(r.error()));
        if (!r->ok() && r->err.find("no such container") == std::string::npos)
            return fail_msg(r->describe(cmd({"rm", name_})));
        removed_ = true;
        return {};
    }

private:
    std::vector<std::string> cmd(std::vector<std::string> args) const {
        auto all = base_;
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }
    friend class ctrbench::podman::PodmanDriver;
    std::vector<std::string> base_;
    std::string name_;
    fs::path memory_cgroup_;
    nlohmann::json network_;  // NetworkSettings, read at start
    bool stopped_ = false, removed_ = false;
};

}  // namespace

PodmanDriver::PodmanDriver(std::string runtime) : runtime_(std::move(runtime)), binary_(find_program("podman")) {}

std::string PodmanDriver::description() const {
    return "podman CLI (cgroupfs), runtime " + runtime_;
}

Capabilities PodmanDriver::capabilities() const {
    Capabilities c;
    c.port_publishing = true;
    c.read_only_rootfs = true;
    c.own_network = true;  // podman's bridge (netavark), ports published on 127.0.0.1
    c.cgroup_parents = {"libpod_parent"};
    c.engine_checkpoint = runtime_ == "runc";  // `podman container checkpoint/restore` through runc and CRIU
    return c;
}

std::vector<std::string> PodmanDriver::base() const {
    std::vector<std::string> b = {binary_, "--cgroup-manager", "cgroupfs", "--events-backend",
                                  "file",  "--runtime",        runtime_};
    b.insert(b.end(), storage_args_.begin(), storage_args_.end());
    return b;
}

Status PodmanDriver::use_storage(const std::string& storage) {
    std::string root;
    if (storage == "overlay") {
        storage_.clear();
        storage_args_.clear();
        return {};
    }
    if (storage == "vfs")
        root = "/var/lib/ctrbench/podman-vfs";
    else if (storage == "btrfs")
        root = std::string(kBtrfsStorageMount) + "/podman";
    else
        return fail_msg("ctrbench's podman driver has no storage " + storage + " (it has overlay, vfs, btrfs)");
    storage_ = storage;
    storage_args_ = {"--storage-driver", storage,     "--root",
                     root + "/storage",  "--runroot", "/run/ctrbench/podman-" + storage};
    return {};
}

std::vector<std::string> PodmanDriver::create_args(const ContainerSpec& spec, const std::string& image) {
    std::vector<std::string> a = {"create",
                                  "--name",
                                  spec.name,
                                  "--hostname",
                                  spec.hostname.empty() ? spec.name : spec.hostname,
                                  "--label",
                                  "ctrbench=1",
                                  "--workdir",
                                  spec.workdir,
                                  "--network",
                                  spec.network == NetworkMode::Host  ? "host"
                                  : spec.network == NetworkMode::Own ? "bridge"
                                                                     : "none",
                                  "--ulimit",
                                  "nofile=1024:1024",
                                  "--ulimit",
                                  "nproc=1024:1024"};
    auto add = [&](std::initializer_list<std::string> more) { a.insert(a.end(), more); };
    if (spec.limits.cpus > 0) {
        std::ostringstream c;
        c << spec.limits.cpus;
        add({"--cpus", c.str()});
    }
    if (spec.limits.memory_bytes)
        add({"--memory", std::to_string(spec.limits.memory_bytes), "--memory-swap",
             std::to_string(spec.limits.memory_bytes)});
    if (spec.limits.pids) add({"--pids-limit", std::to_string(spec.limits.pids)});
    if (spec.read_only_rootfs)
        add({"--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=" + std::to_string(spec.limits.writable_bytes)});
    for (const auto& m : spec.mounts)
        add({"--volume", m.source.string() + ":" + m.target + (m.read_only ? ":ro" : ":rw")});
    if (spec.network == NetworkMode::Own)
        for (int port : spec.publish) add({"--publish", "127.0.0.1::" + std::to_string(port)});
    for (const auto& c : spec.add_caps) add({"--cap-add", c});
    if (!adds_capability(spec, "NET_RAW")) add({"--cap-drop", "NET_RAW"});  // the common set has none
    for (const auto& e : spec.env) add({"--env", e});
    a.push_back(image);
    a.insert(a.end(), spec.init.begin(), spec.init.end());
    return a;
}

Probe PodmanDriver::probe() {
    Probe p;
    p.runtime = runtime_;
    p.storage = "overlay";
    if (binary_.empty()) {
        p.reason = "podman is not installed (ansible-playbook playbooks/podman.yml)";
        return p;
    }
    if (::geteuid() != 0) {
        p.reason = "needs root (rootful podman; rootless is a candidate of its own)";
        return p;
    }
    auto v = run_process({binary_, "version", "--format", "{{.Client.Version}}"}, 30s);
    if (!v || !v->ok()) {
        p.reason = v ? v->describe({"podman", "version"}) : v.error().message();
        return p;
    }
    p.versions["podman"] = trim(v->out);
    if (find_program(runtime_).empty()) {
        p.reason = "runtime " + runtime_ + " is not installed";
        return p;
    }
    if (storage_ == "btrfs") {
        struct statfs st {};
        if (::statfs(kBtrfsStorageMount, &st) != 0 || st.f_type != BTRFS_SUPER_MAGIC) {
            p.reason = std::string("storage btrfs needs the btrfs filesystem at ") + kBtrfsStorageMount +
                       " (playbooks/roles/btrfs_loop)";
            return p;
        }
    }
    auto info_cmd = base();
    info_cmd.insert(info_cmd.end(), {"info", "--format", "{{.Store.GraphDriverName}}"});
    // `podman info` takes most of a second and answers the same for every runtime: once it has
    // answered, the answer is kept for the same binary and storage.
    static std::map<std::vector<std::string>, std::string> answered;
    std::vector<std::string> key = storage_args_;
    key.push_back(binary_);
    if (auto known = answered.find(key); known != answered.end())
        p.storage = known->second;
    else if (auto info = run_process(info_cmd, 60s); info && info->ok())
        p.storage = answered[key] = trim(info->out);
    else if (info) {
        p.reason = info->describe({"podman", "info"});
        return p;
    }
    p.available = true;
    return p;
}

Status PodmanDriver::prepare(const ContainerSpec& spec) {
    auto ref = image_tag(spec);  // the same tag scheme as docker
    if (!ref) return fail(std::move(ref.error()));
    auto name = image_name(spec);
    if (!name) return fail(std::move(name.error()));
    record_build("podman", *name, spec);  // this checkout uses it: another's import keeps it
    auto b = base();
    auto exists = b;
    exists.insert(exists.end(), {"image", "exists", *ref});
    if (auto r = run_process(exists, 60s); r && r->ok()) return {};
    auto imp = b;
    imp.insert(imp.end(), {"import", (spec.rootfs.parent_path() / (spec.image + ".tar")).string(), *ref});
    if (auto r = run_checked(imp, 300s); !r) return fail(std::move(r.error()).wrap("import image " + *ref));
    // The image's earlier builds go, but not one another checkout still uses, nor one a container
    // still runs from (rmi without --force refuses it).
    auto list = b;
    list.insert(list.end(),
                {"images", "--filter", "reference=ctrbench/" + spec.image, "--format", "{{.Repository}}:{{.Tag}}"});
    std::vector<std::string> tags;
    if (auto r = run_process(list, 60s); r && r->ok()) {
        std::istringstream in(r->out);
        for (std::string t; std::getline(in, t);) tags.push_back(t);
    }
    for (const auto& old : unused_builds("podman", spec, tags)) {
        auto rmi = b;
        rmi.insert(rmi.end(), {"rmi", old.tag});
        if (auto r = run_process(rmi, 120s); r && r->ok()) forget_build("podman", old.record);
    }
    return {};
}

std::vector<std::string> PodmanDriver::sweep_dead() {
    // Containers of ctrbench processes that died without cleaning.
    std::vector<std::string> removed;
    if (binary_.empty()) return removed;
    auto b = base();
    auto ps = b;
    ps.insert(ps.end(), {"ps", "--all", "--filter", "label=ctrbench=1", "--format", "{{.Names}}"});
    auto r = run_process(ps, 60s);
    if (!r || !r->ok()) return removed;
    std::istringstream in(r->out);
    for (std::string name; std::getline(in, name);) {
        if (!owner_gone(name)) continue;
        auto rm = b;
        rm.insert(rm.end(), {"rm", "--force", name});
        if (auto d = run_process(rm, 60s); d && d->ok()) removed.push_back("podman container " + name);
    }
    return removed;
}

Result<std::unique_ptr<Container>> PodmanDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    if (binary_.empty()) return fail_msg("podman is not installed");
    auto ref = image_tag(spec);
    if (!ref) return fail(std::move(ref.error()));
    auto b = base();
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    auto args = b;
    auto ca = create_args(spec, *ref);
    args.insert(args.end(), ca.begin(), ca.end());
    auto c = std::make_unique<PodmanContainer>(b, spec.name);
    if (auto r = run_checked(args, kVerbTimeout); !r)
        return fail(std::move(r.error()));  // c's destructor removes leftovers
    return std::unique_ptr<Container>(std::move(c));
}

Result<std::unique_ptr<Container>> PodmanDriver::restore(const ContainerSpec& spec, const fs::path& file) {
    if (!capabilities().engine_checkpoint) return fail_msg("podman restores only with runc, not " + runtime_);
    if (binary_.empty()) return fail_msg("podman is not installed");
    auto b = base();
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    auto args = b;
    args.insert(args.end(), {"container", "restore", "--import", file.string(), "--name", spec.name});
    auto c = std::make_unique<PodmanContainer>(b, spec.name);
    if (auto r = run_checked(args, kCheckpointTimeout); !r)
        return fail(std::move(r.error()).wrap("restore " + spec.name));  // c's destructor removes leftovers
    c->look();
    return std::unique_ptr<Container>(std::move(c));
}

}  // namespace ctrbench::podman
