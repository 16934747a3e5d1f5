// checkpoint (seed 002): a process touches `mem` MB and waits; before the runs it is dumped with CRIU,
// once per parameter, inside a container of the driver (the dump's time is the figure "dump_ms"). Each
// run then restores it into a fresh container and wakes it, and it reads and writes its memory again:
//   create + start      the container's own overhead (seed: "lean container")
//   exec                `criu restore` in the container (figure "restore_ms": criu's run as the
//                       container saw it; the exec phase adds the driver's exec)
//   response            the woken process touches its memory again (figure "execution_ms": its own time)
// CRIU runs inside the container, as seeds 000 and 002 do: a static criu bound read-only at
// /ctrbench/criu, the images (on the host's tmpfs) bound read-only at /ctrbench/images, CRIU's
// capabilities added and seccomp off; the restored process becomes the container's, in its namespaces
// and cgroup. `checkpoint-lazy` restores with `criu lazy-pages`: pages come as the process faults.
// A driver whose engine checkpoints whole containers (Capabilities::engine_checkpoint: podman with
// runc) is measured by the workload itself: the setup's container is checkpointed into a file, and
// each run restores it as a new container (figure "restore_ms": the engine's restore, its container
// included) and wakes the process ("execution_ms"). The engine has no lazy restore.
#pragma once

#include <filesystem>
#include <optional>

#include "workloads/workload.h"

namespace ctrbench {

// The criu a container can run: a static binary (no libc of the host's needed in the image).
struct CriuForContainers {
    std::filesystem::path binary;
    std::string version;
    bool no_breakpoints = false;  // the host needs CRIU_FAULT=130 (the criu role found so)
};
// The criu role's (/usr/local/lib/ctrbench/criu; the environment's CTRBENCH_CRIU names another), when
// it is static and passes `criu check` (which also refreshes its kernel-probe cache); else why not.
Result<CriuForContainers> criu_for_containers();
// "key V" in the agent's output ("dump_us 1234"), and a message made one line of at most 300 characters.
std::optional<long long> agent_field(const std::string& out, const std::string& key);
std::string one_line(std::string s);
// A spec whose container runs CRIU (`who` names the workload in errors): CRIU's capabilities, no seccomp,
// the static criu and the host's kernel-probe cache bound in.
Status criu_in_container(ContainerSpec& spec, const std::string& who);
// Why a driver with CRIU in its containers (Capabilities::checkpoint) cannot run it here; empty when it can.
std::string criu_unsupported(const Capabilities& caps);
// The kernel a checkpoint was made on: stamp_kernel() writes this host's release beside the images
// once the dump succeeded; made_on_this_kernel() refuses, in one line, a spec whose images (the
// read-only /ctrbench/images of a run) carry another kernel's stamp, or none. CRIU itself does not
// check: a restore on another kernel may fail half-way or run without features the dump relied on.
Status stamp_kernel(const std::filesystem::path& images);
Status made_on_this_kernel(const ContainerSpec& spec);
// A fresh directory for checkpoint images on the host's tmpfs, named for this run's process ("what":
// "checkpoint-16"); sweep_dead() removes it after a kill -9.
Result<std::filesystem::path> images_directory(const std::string& what);

class CheckpointWorkload final : public Workload {
public:
    static constexpr const char* kImages = "/ctrbench/images";
    static constexpr const char* kCriu = "/ctrbench/criu";
    static constexpr const char* kWork = "/tmp/ctrbench-checkpoint";  // the container's own: logs, pid

    explicit CheckpointWorkload(bool lazy) : lazy_(lazy) {}
    std::string name() const override { return lazy_ ? "checkpoint-lazy" : "checkpoint"; }
    std::string description() const override {
        return lazy_ ? "restore a dumped process of N MB with criu lazy-pages into a fresh container; it touches "
                       "its memory again"
                     : "restore a dumped process of N MB into a fresh container; it touches its memory again";
    }
    std::string param_name() const override { return "mem"; }
    std::vector<std::string> param_values() const override { return {"1", "4", "16", "64", "256", "1024"}; }
    bool accepts(const std::string& v) const override { return positive_number(v, 8192); }
    std::string param_hint() const override {
        return "a memory size in MB from 1 to 8192, default 1, 4, 16, 64, 256, 1024";
    }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
    Status prepare(ContainerSpec& spec, const std::string& param) const override;
    Result<Setup> setup(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool awaits_response() const override { return true; }
    bool measures_itself_with(const Capabilities& caps) const override {
        return !caps.checkpoint && caps.engine_checkpoint;
    }
    Result<Outcome> measure(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    Result<Outcome> await_response(Container& c, const std::string& param,
                                   std::chrono::milliseconds deadline) const override;
    Reference reference() const override;
    std::map<std::string, std::string> versions() const override;
    int default_runs() const override { return 10; }
    int default_warmup() const override { return 1; }

    // What a dead run left: its images directories on the host's tmpfs. Returns what it removed.
    static std::vector<std::string> sweep_dead();
    // The container's memory limit for `mb`: the harness's 1 GiB, or more where the process and its
    // images on tmpfs need it (2 x mb + 256 MB).
    static std::uint64_t memory_limit(long mb);

private:
    bool lazy_;
};

}  // namespace ctrbench
