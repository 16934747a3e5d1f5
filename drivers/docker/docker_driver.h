// The `docker` driver: the Docker Engine API over /run/docker.sock (not the CLI).
// Phases: create = POST /containers/create (image imported beforehand by prepare());
//         start  = POST /containers/{id}/start;
//         exec   = POST /containers/{id}/exec, POST /exec/{id}/start (attached), GET /exec/{id}/json;
//         stop   = POST /containers/{id}/kill?signal=KILL, POST /containers/{id}/wait?condition=not-running;
//         clean  = DELETE /containers/{id}?force=true&v=true.
// Checkpoint (with runc; dockerd --experimental): POST /containers/{id}/checkpoints dumps the container
// into dockerd's checkpoints directory, copied out to a directory of ctrbench's; restore = create,
// the copy put back into the new container's checkpoints directory, POST /containers/{id}/start?checkpoint=.
// A dockerd without --experimental has no checkpoint: probe() reads it, capabilities() says so.
// The OCI runtime under Docker (runc, crun, runsc) is the driver's runtime parameter.
// Network (NetworkMode::Own): Docker's bridge, each spec.publish port bound to a port Docker picks on
// 127.0.0.1; start's inspect (GET /containers/{id}/json) says which, and the bridge's gateway is the
// host end of the container's link.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "drivers/docker/docker_api.h"
#include "drivers/driver.h"

namespace ctrbench::docker {

class DockerDriver final : public Driver {
public:
    explicit DockerDriver(std::string runtime = "runc", std::string socket = "/run/docker.sock");
    std::string name() const override { return "docker"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    std::vector<std::string> sweep_dead() override;
    std::optional<EngineSetting> engine_setting_for(const std::string& storage) const override;
    std::optional<EngineSetting> current_engine_setting() override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;
    Result<std::unique_ptr<Container>> restore(const ContainerSpec& spec, const std::filesystem::path& file) override;

    // The body of POST /containers/create for a spec.
    static nlohmann::json create_body(const ContainerSpec& spec, const std::string& image, const std::string& runtime);

private:
    std::string runtime_;
    DockerApi api_;
    // Whether dockerd runs experimental (its checkpoint needs it), as the last probe() read it;
    // unknown before: capabilities() then assumes it does, and the probe corrects it.
    std::optional<bool> experimental_;
    std::string data_root_;  // dockerd's DockerRootDir, from the same probe: where its checkpoints go
    std::once_flag swept_;   // stale containers of dead ctrbench processes, removed once
};

}  // namespace ctrbench::docker
