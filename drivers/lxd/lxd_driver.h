// The `lxd` driver: LXD through its REST API on its unix socket (the project's UnixHttp), as the
// `lxc` client of LXD talks to it. Every call that changes an instance is an LXD operation, waited
// for with GET /1.0/operations/<id>/wait.
// Phases: create = POST /1.0/instances from the image imported beforehand (prepare(): untimed, once
//                  per image checksum), in the candidate's storage pool, no profile, no NIC;
//         start  = PUT /1.0/instances/<name>/state {"action": "start"}, GET .../state (the init's pid);
//         exec   = POST /1.0/instances/<name>/exec with recorded output, the operation's wait for the
//                  exit code, GET of the two recorded logs;
//         stop   = PUT .../state {"action": "stop", "force": true};
//         clean  = DELETE /1.0/instances/<name>.
// Instances are LXD's defaults otherwise: unprivileged (a user namespace, its id map), LXD's
// seccomp policy and capabilities; the first process is the spec's (raw.lxc lxc.init.cmd).
// Storage: the pools `ctrbench-dir` and `ctrbench-btrfs` the lxd role makes (storage dir, btrfs).
// Network: none but loopback; NetworkMode::Own adds ctrbench's veth link, as for lxc.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "drivers/common/unix_http.h"
#include "drivers/driver.h"

namespace ctrbench::lxd {

inline constexpr const char* kLxdSocket = "/var/lib/lxd/unix.socket";

// An LXD client: calls, and the wait for the operation an asynchronous call started.
class LxdApi {
public:
    explicit LxdApi(std::string socket = kLxdSocket) : http_(std::move(socket), "lxd", "lxd") {}
    const std::string& socket() const { return http_.socket(); }
    UnixHttp& http() { return http_; }
    // A synchronous call's metadata.
    Result<nlohmann::json> sync(const std::string& method, const std::string& path,
                                const nlohmann::json& body = nullptr);
    // An asynchronous call, waited for at most `timeout`: the finished operation's metadata (its
    // status Success), an Error with LXD's message on Failure, ETIMEDOUT past the timeout.
    Result<nlohmann::json> run(const std::string& method, const std::string& path, const nlohmann::json& body,
                               std::chrono::milliseconds timeout = std::chrono::seconds(120));
    // Waits for an operation started by a reply (`reply`'s "operation").
    Result<nlohmann::json> wait(const nlohmann::json& reply, const std::string& what,
                                std::chrono::milliseconds timeout);

private:
    UnixHttp http_;
};

class LxdDriver final : public Driver {
public:
    explicit LxdDriver(std::string socket = kLxdSocket) : api_(std::move(socket)) {}
    std::string name() const override { return "lxd"; }
    std::string description() const override { return "LXD's REST API on " + api_.socket(); }
    Capabilities capabilities() const override;
    Probe probe() override;
    Status use_storage(const std::string& storage) override;
    // LXD's pools: "dir" (ctrbench-dir), or "dir+btrfs" while a btrfs candidate needs ctrbench-btrfs
    // (a loop file LXD keeps mounted); the matrix puts LXD back as it found it.
    std::optional<EngineSetting> engine_setting_for(const std::string& storage) const override;
    std::optional<EngineSetting> current_engine_setting() override;
    Status prepare(const ContainerSpec& spec) override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // The body of POST /1.0/instances for a spec: pure, unit-tested.
    static Result<nlohmann::json> create_body(const ContainerSpec& spec, const std::string& alias,
                                              const std::string& pool);
    // "ctrbench-minimal-<16 hex of the image tar's sha256>": the image's alias in LXD.
    static Result<std::string> image_alias(const ContainerSpec& spec);

private:
    bool delete_instance(const std::string& name);

    LxdApi api_;
    std::string storage_ = "dir";
    std::once_flag swept_;
};

}  // namespace ctrbench::lxd
