// The lean container runtime (seed 000): a real container in about a millisecond.
// create: clone into new mount, PID, UTS, IPC, cgroup (and network) namespaces; the child joins a
//         pooled cgroup, builds its rootfs (overlay or read-only bind), its own /proc and /dev,
//         pivots into it, and waits.
// start:  the child drops to Docker's capability set, sets no_new_privs and execs the first process.
// exec:   a helper enters the namespaces with setns(pidfd) and runs a command in the container.
// stop:   SIGKILL to the container's PID 1 takes every process of the PID namespace with it.
// clean:  the cgroup goes back to the pool; the mounts died with the mount namespace.
// Every mount lives only in the container's own mount namespace, so nothing is ever visible on, or
// left behind on, the host; PR_SET_PDEATHSIG kills the container if its parent dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "drivers/lean/cgroup.h"
#include "drivers/lean/setup_plan.h"

struct sock_fprog;

namespace ctrbench::lean {

struct Config {
    std::string name;
    fs::path rootfs;                // absolute
    std::vector<std::string> argv;  // the first process
    std::vector<std::string> env;
    std::string workdir = "/";
    std::string hostname;   // empty = name
    bool own_netns = true;  // false: share the host's network (not isolated)
    bool read_only_rootfs = false;
    std::uint64_t writable_bytes = 256ULL << 20;
    // An existing host directory for the overlay's upper and work directories (the writable layer
    // on disk; the caller removes it after the container). Empty: on a tmpfs of writable_bytes.
    fs::path layer_dir;
    std::vector<BindMount> mounts;
    std::vector<std::string> add_caps;
    bool inherit_stdio = false;  // first process's stdio: the caller's, or /dev/null
    bool seccomp = true;         // Docker's default seccomp profile (seccomp.h); false: unconfined
    // A user namespace of its own (userns.h): root inside is host uid kUsernsBase. The rootfs must
    // then be owned by that range (userns_rootfs), and so must layer_dir.
    bool userns = false;
};

// Checks what can be checked before cloning: absolute rootfs that is a directory, argv[0] present
// in it (absolute, or found on the config's PATH), absolute workdir and mount targets.
Status check_config(const Config& config);

// One lean container: the process tree in its namespaces, cgroup and rootfs (the lean driver wraps
// it in a ctrbench::Container). Used from one thread: run-mode create and exec clone onto
// per-process static stacks.
class Sandbox {
public:
    // Run mode (wait_for_start = false) goes straight from setup to exec, the seed's critical path.
    static Result<std::unique_ptr<Sandbox>> create(const Config& config, Cgroup* cgroup, bool wait_for_start = true);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    Status start();
    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);
    // Waits for the first process to exit; its result as an ExecResult (no captured output).
    Result<ExecResult> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    Status kill();
    pid_t pid() const { return pid_; }
    Cgroup* cgroup() const { return cgroup_; }

private:
    Sandbox() = default;
    Status read_exec_confirmation();
    Status await_setup();  // create(wait_for_start): the child says it is set up, or why not
    void reap(int* status);

    Config config_;
    Cgroup* cgroup_ = nullptr;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    int status_fd_ = -1;            // child -> parent: 'R' ready, 'E' + record on error, EOF once exec'd
    int go_fd_ = -1;                // parent -> child: 'G' to exec
    Status map_ids(int mapped_fd);  // userns: writes the child's id maps, then 'M' on mapped_fd
    int ns_flags_ = 0;
    std::uint64_t caps_ = 0;
    const sock_fprog* seccomp_ = nullptr;  // the filter its processes load, kept by seccomp.cpp
    std::uint64_t oom_before_ = 0;
    std::vector<std::string> exec_paths_;  // candidate paths of argv[0]
};

// The namespaces a lean container gets.
int namespace_flags(bool own_netns, bool userns = false);

}  // namespace ctrbench::lean
