// The `kata` driver: Kata Containers (each container in a light VM), under whichever engine this host
// runs it with: Docker with its `kata-runtime` runtime registered (the docker driver does the work,
// its phases are docker's), or containerd with the Kata shim v2 (`containerd-shim-kata-v2`; ctrbench
// has no containerd driver yet). Debian 12 packages neither: here the driver says so in one line.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "drivers/driver.h"

namespace ctrbench::kata {

class KataDriver final : public Driver {
public:
    // `docker_with`: makes the docker driver for an OCI runtime name (the registry's, so that this
    // folder does not reach into docker's).
    using DockerFactory = std::function<std::unique_ptr<Driver>(const std::string& runtime)>;
    explicit KataDriver(const DockerFactory& docker_with);
    std::string name() const override { return "kata"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    Status use_storage(const std::string& storage) override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // Why this host cannot run Kata, in one line; "" when it can (through docker).
    static std::string why_not(bool shim_v2, bool kata_runtime);

private:
    std::unique_ptr<Driver> engine_;  // docker with kata-runtime, when this host has it
    std::string why_not_;
};

}  // namespace ctrbench::kata
