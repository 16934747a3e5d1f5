// The `kata` driver: Kata Containers (each container in a light VM), under whichever engine this host
// runs it with: containerd with the Kata shim v2 (`containerd-shim-kata-v2`, the way Kata is deployed
// today; the containerd driver does the work, its phases are containerd's), else Docker with its
// `kata-runtime` runtime registered (the docker driver's phases). Debian 12 packages neither: here
// the driver says so in one line.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "drivers/driver.h"

namespace ctrbench::kata {

class KataDriver final : public Driver {
public:
    // Makes the containerd driver with the kata shim, or the docker driver with kata-runtime (the
    // registry's factories, so that this folder does not reach into theirs).
    using EngineFactory = std::function<std::unique_ptr<Driver>()>;
    KataDriver(const EngineFactory& containerd_kata, const EngineFactory& docker_kata);
    std::string name() const override { return "kata"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    Status use_storage(const std::string& storage) override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // Why this host cannot run Kata, in one line; "" when it can (through containerd or docker).
    static std::string why_not(bool shim_v2, bool kata_runtime);

private:
    std::unique_ptr<Driver> engine_;  // containerd with the kata shim, or docker with kata-runtime
    std::string runtime_column_;      // the candidate's runtime: "kata" (containerd) or "kata-runtime"
    std::string why_not_;
};

}  // namespace ctrbench::kata
