// The driver contract: every container stack ctrbench measures (lean, crun, runc, runsc, docker,
// podman, lxc, lxd, kata, microvm) is one class behind this interface. The harness owns timing,
// repetition and output; a driver only maps the five stages of DESIGN.md onto its engine and never
// prints. Read drivers/skeleton/skeleton_driver.cpp for every hook with when and why it is called.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/process.h"  // ExecResult

namespace ctrbench {

// Resource limits every driver applies the same way (thesis: INGInious grants 1 CPU and bounded memory).
struct Limits {
    double cpus = 1.0;                            // CFS quota / period; 0 = unlimited
    std::uint64_t memory_bytes = 1ULL << 30;      // 1 GiB; 0 = unlimited
    std::int64_t pids = 1024;                     // 0 = unlimited
    std::uint64_t writable_bytes = 256ULL << 20;  // size of a tmpfs writable layer where a driver uses one
    bool operator==(const Limits&) const = default;
};

enum class NetworkMode {
    None,  // its own network namespace with loopback only (docker --network none)
    Own,   // its own namespace plus a link to the host (veth), for http and ping
    Host,  // the host's network: not isolated, only on explicit request
};

struct BindMount {
    std::filesystem::path source;  // on the host
    std::string target;            // absolute path inside the container
    bool read_only = true;
};

// The idle first process every driver starts unless the spec names another: /bin/sleep infinity.
extern const std::vector<std::string> kIdleInit;

// What to run, independent of the engine. Every driver runs the same spec.
struct ContainerSpec {
    std::string name;                           // unique per run; drivers use it as-is with their prefix
    std::string image = "minimal";              // logical image: "minimal" or "full"
    std::filesystem::path rootfs;               // the image's rootfs directory, for drivers that take one
    std::vector<std::string> init = kIdleInit;  // the first process, started by start()
    std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"};
    std::string workdir = "/";
    std::string hostname;  // empty = the name
    Limits limits;
    NetworkMode network = NetworkMode::None;
    std::vector<BindMount> mounts;
    std::vector<int> publish;           // container ports the harness must reach (NetworkMode::Own)
    bool read_only_rootfs = false;      // true: "/" read-only, /tmp the writable layer
    std::vector<std::string> add_caps;  // beyond the common set (Docker's default without NET_RAW), e.g. "NET_RAW"
    // The engine's default seccomp filter (Docker's profile); false = none, for drivers whose
    // Capabilities::unconfined_seccomp says they can (to measure what the filter costs).
    bool seccomp = true;
    // A user namespace of the container's own: its root is an unprivileged host uid (drivers whose
    // Capabilities::userns says they can; an engine's own default otherwise).
    bool userns = false;
    std::chrono::milliseconds timeout{60'000};  // per exec; also bounds start
};

// How ctrbench names what it leaves on a host while it runs (containers, bundles, writable layers,
// cgroup pool roots): "ctrbench-<pid>-<what>", <pid> being the process that made it ("ctrbench-test-
// <pid>-<what>" in the tests). Every driver sweeps, once per process, what a process killed before it
// could clean left behind: the things whose owner_gone().
std::string owned_name(const std::string& what);  // "ctrbench-<getpid()>-<what>"
int owner_pid(const std::string& name);           // the <pid> of such a name; 0 when it has none
bool owner_gone(const std::string& name);         // the name has an owner, and that process is gone

// Checks a spec before any engine sees it: one message naming the first problem.
Status validate(const ContainerSpec& spec);

// Whether the spec adds capability `name` ("NET_RAW"), however it is spelled ("net_raw", "CAP_NET_RAW").
bool adds_capability(const ContainerSpec& spec, const std::string& name);

// What an engine can do; the harness asks these, never the driver's name (fio's capability flags).
struct Capabilities {
    bool daemon = false;      // needs a running daemon (docker, lxd)
    bool vm = false;          // each sandbox is a virtual machine (kata, microvm)
    bool rootless = false;    // can run without root
    bool checkpoint = false;  // CRIU runs inside its containers (given the caps, binds, no seccomp)
    // The engine checkpoints a whole container into a file and restores it as a new one
    // (Container::checkpoint, Driver::restore): podman and docker with runc.
    bool engine_checkpoint = false;
    std::string
        checkpoint_why;  // when neither: why, where the engine has a checkpoint of its own ctrbench does not use
    bool port_publishing = false;     // publishes a port on 127.0.0.1
    bool own_network = false;         // supports NetworkMode::Own
    std::string no_network_why;       // when !own_network: why, in words a user acts on
    bool read_only_rootfs = false;    // supports ContainerSpec::read_only_rootfs
    bool unconfined_seccomp = false;  // supports ContainerSpec::seccomp = false
    bool userns = false;              // supports ContainerSpec::userns = true
    // The host's memory cgroup sees the container's OOM kills (ExecResult::oom_killed); false where
    // a kernel of the sandbox's own accounts memory (gVisor, a VM): its limit holds, unseen by the host.
    bool host_sees_oom = true;
    // The largest image (its tar) it can run, when it holds the image in the sandbox's RAM (microvm's
    // initramfs); 0: any; `max_image_why` says why.
    std::uint64_t max_image_bytes = 0;
    std::string max_image_why;
    // Where the engine puts its containers' cgroups, relative to a hierarchy's root ("docker"), so
    // that the host facts do not take its containers for someone else's processes.
    std::vector<std::string> cgroup_parents;
};

// A setting an engine holds for all its containers, which a candidate's playbook changes (docker's
// storage driver: daemon.json and a restart), as "engine:value" ("docker:btrfs").
struct EngineSetting {
    std::string engine, value;
    std::string key() const { return engine + ":" + value; }
    bool operator==(const EngineSetting&) const = default;
};

struct Probe {
    bool available = false;
    std::string reason;                           // one line, why not (empty when available)
    std::map<std::string, std::string> versions;  // engine component -> version, for the metadata
    std::string runtime;                          // the candidate's runtime column, e.g. "runc"
    std::string storage;                          // the candidate's storage column, e.g. "overlay2"
};

// One sandbox in its lifecycle. Returned by Driver::create in state "created". The destructor stops
// and cleans whatever is still there, so every path (error, timeout, Ctrl-C) leaves nothing behind.
class Container {
public:
    virtual ~Container() = default;
    // created -> running: the idle first process (spec.init) runs when this returns.
    virtual Status start() = 0;
    // Runs argv inside the running container and waits for it, at most `timeout`.
    virtual Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) = 0;
    // running -> stopped: every process of the container is gone when this returns.
    virtual Status stop() = 0;
    // stopped -> gone: everything create made (rootfs layer, cgroup, state) is removed.
    virtual Status clean() = 0;
    // With NetworkMode::Own, after start: "ip:port" where the harness reaches a published container
    // port (127.0.0.1 through the engine's port publishing, or the container's own address on the
    // link the driver made), and the address of the host end of the container's link.
    virtual Result<std::string> endpoint(int /*port*/) { return fail_msg("this driver gives no network endpoint"); }
    virtual Result<std::string> host_end() { return fail_msg("this driver gives no network link"); }
    // Capabilities::engine_checkpoint: running -> stopped. The engine dumps every process of the
    // container into `file` (CRIU) and stops it; clean() still removes it.
    virtual Status checkpoint(const std::filesystem::path& /*file*/) {
        return fail_msg("this driver's engine cannot checkpoint a container");
    }
};

class Driver {
public:
    virtual ~Driver() = default;
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    virtual Capabilities capabilities() const = 0;
    // Can this host run the driver? Cheap, side-effect free, callable many times.
    virtual Probe probe() = 0;
    // Untimed, once before the runs: what every run reuses (an image imported into the engine).
    virtual Status prepare(const ContainerSpec& /*spec*/) { return {}; }
    // The storage driver a candidate asks for, before probe(): an engine that picks one per call
    // (podman's --storage-driver) switches to it; the others keep theirs, which probe() reports and
    // the candidate's playbook changes (docker's daemon.json).
    virtual Status use_storage(const std::string& /*storage*/) { return {}; }
    // The engine-wide setting a candidate with this storage needs, for a driver whose engine holds
    // one (the matrix groups candidates by it and runs their playbooks to change it); none for a
    // driver that picks its storage per call or has no engine.
    virtual std::optional<EngineSetting> engine_setting_for(const std::string& /*storage*/) const {
        return std::nullopt;
    }
    // The setting the engine has now (none: no such setting, or the engine is not running). The
    // matrix reads it before its first candidate and, at the end, runs the playbook of a candidate
    // that needs it, to put the engine back as it found it.
    virtual std::optional<EngineSetting> current_engine_setting() { return std::nullopt; }
    // What ctrbench processes that are gone (killed with -9, a crash) left on this engine: the
    // containers, bundles, writable layers and cgroups whose name owner_gone(). Removes them and says
    // what, a line each. `harness --cleanup` calls it on every driver; each driver also calls it
    // once per process before its first container.
    virtual std::vector<std::string> sweep_dead() { return {}; }
    // nothing -> created: rootfs, cgroup and config are ready, no process of the spec runs yet.
    virtual Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) = 0;
    // Capabilities::engine_checkpoint: nothing -> running. A new container named spec.name from a
    // Container::checkpoint `file`, its processes restored (its config: the checkpoint's for podman,
    // the spec's for docker, which makes the container first: give it the dumped one's).
    virtual Result<std::unique_ptr<Container>> restore(const ContainerSpec& /*spec*/,
                                                       const std::filesystem::path& /*file*/) {
        return fail_msg("this driver's engine cannot restore a container");
    }
};

// The table of drivers the harness looks names up in (fio's engine registry).
class DriverRegistry {
public:
    // Makes the driver for one OCI runtime choice ("" = the driver's default).
    using Factory = std::function<std::unique_ptr<Driver>(const std::string& runtime)>;
    // `runtimes`: the OCI runtimes a manager driver can run containers with (first = default);
    // empty for drivers that are their own runtime.
    void add(std::string name, std::string description, std::vector<std::string> runtimes, Factory make);
    std::vector<std::string> names() const;
    std::string description(const std::string& name) const;
    std::vector<std::string> runtimes(const std::string& name) const;
    // nullptr when the name, or the runtime for it, is unknown.
    std::unique_ptr<Driver> make(const std::string& name, const std::string& runtime = "") const;

private:
    struct Entry {
        std::string name, description;
        std::vector<std::string> runtimes;
        Factory make;
    };
    std::vector<Entry> entries_;
};

// Every driver built into this binary.
DriverRegistry builtin_drivers();

}  // namespace ctrbench
