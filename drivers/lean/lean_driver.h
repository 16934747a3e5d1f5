// The `lean` driver: ctrbench's own runtime (drivers/lean/container.h) behind the driver contract.
// Phases: create = clone + namespaces + overlay rootfs (upper layer on disk, or tmpfs by choice) +
//                  pooled cgroup (container waits);
//         start  = capabilities dropped, first process exec'd;
//         exec   = setns(pidfd) helper runs the command;
//         stop   = SIGKILL to PID 1 (the PID namespace dies with it) and reap;
//         clean  = the upper layer removed, cgroup back to the pool (mounts died with the mount namespace).
#pragma once

#include <memory>
#include <mutex>

#include "drivers/common/layer.h"
#include "drivers/driver.h"
#include "drivers/lean/cgroup.h"

namespace ctrbench::lean {

class LeanDriver final : public Driver {
public:
    std::string name() const override { return "lean"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    std::vector<std::string> sweep_dead() override;
    Probe probe() override;
    // With a user namespace: the image's copy owned by its range (userns.h), made once, untimed.
    Status prepare(const ContainerSpec& spec) override;
    // "overlay" (the default: upper layer on disk under kLayerRoot) or "tmpfs" (in RAM).
    Status use_storage(const std::string& storage) override;
    Result<std::unique_ptr<ctrbench::Container>> create(const ContainerSpec& spec) override;

private:
    std::mutex pool_mu_;  // create may be called from concurrent workers
    std::unique_ptr<CgroupPool> pool_;
    LayerStorage storage_ = LayerStorage::Disk;
};

}  // namespace ctrbench::lean
