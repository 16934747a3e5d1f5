// The `podman` driver: podman is daemonless and its CLI is its interface.
// Phases: create = `podman create` (image imported beforehand by prepare());
//         start  = `podman start` + `podman inspect` (the init's pid; with a network, its ports);  exec = `podman
//         exec`; stop   = `podman kill --signal KILL` + `podman wait`;  clean = `podman rm --force`.
// Without systemd it runs with --cgroup-manager cgroupfs, and with explicit ulimits (its defaults
// exceed the hard limits of these hosts, see HOST-NOTES). The OCI runtime is runc or crun.
// Network (NetworkMode::Own): podman's bridge, each spec.publish port on a free port of 127.0.0.1.
// Checkpoint (runc): `podman container checkpoint --export` and `podman container restore --import`.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench::podman {

class PodmanDriver final : public Driver {
public:
    explicit PodmanDriver(std::string runtime = "crun");
    std::string name() const override { return "podman"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    std::vector<std::string> sweep_dead() override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;
    // `podman container restore --import FILE --name NAME` of a `container checkpoint --export`
    // (runc only: podman's crun path has no CRIU here).
    Result<std::unique_ptr<Container>> restore(const ContainerSpec& spec, const std::filesystem::path& file) override;
    // overlay: podman's own store (/var/lib/containers); vfs: a store of its own under
    // /var/lib/ctrbench/podman-vfs; btrfs: under /var/lib/ctrbench/btrfs (the btrfs loop filesystem
    // the btrfs_loop role mounts). Every call then carries --storage-driver, --root and --runroot.
    Status use_storage(const std::string& storage) override;

    // `podman --cgroup-manager cgroupfs --runtime <rt>`: the start of every call.
    std::vector<std::string> base() const;
    // The arguments of `podman create` for a spec, image last then the first process.
    static std::vector<std::string> create_args(const ContainerSpec& spec, const std::string& image);

private:
    std::string runtime_;
    std::string binary_;
    std::string storage_;                    // "" = podman's configured store
    std::vector<std::string> storage_args_;  // --storage-driver X --root R --runroot RR
    std::once_flag swept_;                   // stale containers of dead ctrbench processes, removed once
};

}  // namespace ctrbench::podman
