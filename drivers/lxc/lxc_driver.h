// The `lxc` driver: LXC through liblxc's C API (lxc-dev), the library the lxc-* tools and LXD are
// built on; no lxc-* program runs in the timed path.
// Phases: create = lxc_container_new, the config items set from the spec (an overlay rootfs over
//                  the image, its upper layer on disk under kLxcPath/<name>/overlay, limits,
//                  capabilities, lxc's default seccomp filter), save_config;
//         start  = start (daemonized: lxc's monitor runs the container; returns once it is RUNNING);
//         exec   = attach of the command (a child of ours in every namespace and the cgroup of the
//                  container), its output and exit code collected;
//         stop   = stop (SIGKILL to the first process) and wait for STOPPED;
//         clean  = destroy (the upper layer and the container's directory), lxc_container_put.
// Network: lxc.net.0.type = empty (loopback only); NetworkMode::Own adds ctrbench's veth link, as
// for lean, crun and runc (no lxcbr0 bridge on these hosts, see HOST-NOTES).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench::lxc {

// Where ctrbench keeps its LXC containers (their config, log and upper layer), apart from the
// host's own (/var/lib/lxc).
inline constexpr const char* kLxcPath = "/var/lib/ctrbench/lxc";

class LxcDriver final : public Driver {
public:
    LxcDriver() = default;
    std::string name() const override { return "lxc"; }
    std::string description() const override { return "LXC through liblxc's C API"; }
    Capabilities capabilities() const override;
    Probe probe() override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // The config items (key, value) a spec becomes, in the order they are set: pure, unit-tested.
    static Result<std::vector<std::pair<std::string, std::string>>> config_items(const ContainerSpec& spec,
                                                                                 bool cgroup_v2);

private:
    std::once_flag swept_;  // containers of dead ctrbench processes, removed once
};

}  // namespace ctrbench::lxc
