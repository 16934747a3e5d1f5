// The OCI runtime drivers: `crun`, `runc` and `runsc` (gVisor), one class parametrised by the
// runtime binary, driven through the runtime's own verbs (its CLI is its interface).
// Phases: create = bundle with an overlay rootfs (upper layer on disk, or on a tmpfs by choice),
//                  config.json, `<rt> create` (init waits);
//         start  = `<rt> start` (the idle first process runs);
//         exec   = `<rt> exec` of the command, output and exit code collected;
//         stop   = `<rt> kill KILL` and wait until the container's init is gone;
//         clean  = `<rt> delete --force`, unmount the overlay (and tmpfs), remove the bundle.
// runsc runs with --platform=ptrace (the only platform that works on these hosts, see HOST-NOTES)
// and --network=none unless the spec shares the host network.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/common/layer.h"
#include "drivers/driver.h"

namespace ctrbench::oci {

class OciDriver final : public Driver {
public:
    explicit OciDriver(std::string runtime);  // "crun", "runc" or "runsc"
    std::string name() const override { return runtime_; }
    std::string description() const override;
    Capabilities capabilities() const override;
    std::vector<std::string> sweep_dead() override;
    Probe probe() override;
    // "overlay" (the default: the bundle and its upper layer on disk under kLayerRoot) or "tmpfs".
    Status use_storage(const std::string& storage) override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // `<binary> --root <state dir> [runtime flags]`: the prefix of every call for this spec.
    std::vector<std::string> command_prefix(const ContainerSpec& spec) const;

private:
    std::string runtime_;
    std::string binary_;
    LayerStorage storage_ = LayerStorage::Disk;
    std::once_flag swept_;  // stale containers of dead ctrbench processes, removed once
};

// Where ctrbench keeps OCI runtime state and bundles, apart from any other user of the runtime.
inline constexpr const char* kStateRoot = "/run/ctrbench";

}  // namespace ctrbench::oci
