// The `podman` driver: podman is daemonless and its CLI is its interface.
// Phases: create = `podman create` (image imported beforehand by prepare());
//         start  = `podman start`;  exec = `podman exec`;
//         stop   = `podman kill --signal KILL` + `podman wait`;  clean = `podman rm --force`.
// Without systemd it runs with --cgroup-manager cgroupfs, and with explicit ulimits (its defaults
// exceed the hard limits of these hosts, see HOST-NOTES). The OCI runtime is runc or crun.
#pragma once

#include <memory>
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
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // `podman --cgroup-manager cgroupfs --runtime <rt>`: the start of every call.
    std::vector<std::string> base() const;
    // The arguments of `podman create` for a spec, image last then the first process.
    static std::vector<std::string> create_args(const ContainerSpec& spec, const std::string& image);

private:
    std::string runtime_;
    std::string binary_;
    bool swept_ = false;
};

}  // namespace ctrbench::podman
