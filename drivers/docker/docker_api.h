// A thin client of the Docker Engine API (v1.41, docker 20.10) over its unix socket (the project's
// UnixHttp). Every call returns the decoded JSON or an Error naming the call and Docker's message.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "drivers/common/unix_http.h"

namespace ctrbench::docker {

class DockerApi {
public:
    explicit DockerApi(std::string socket = "/run/docker.sock") : http_(std::move(socket), "docker", "dockerd") {}
    const std::string& socket() const { return http_.socket(); }

    using Reply = UnixHttp::Reply;
    // `expect` lists the statuses that mean success; anything else becomes an Error.
    Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& content_type = "application/json",
                       std::chrono::milliseconds timeout = std::chrono::seconds(60),
                       std::initializer_list<int> expect = {200, 201, 204});
    Result<nlohmann::json> get_json(const std::string& path);
    Result<nlohmann::json> post_json(const std::string& path, const nlohmann::json& body);

private:
    UnixHttp http_;
};

// Docker's multiplexed attach stream (8-byte frame headers: stream, 0, 0, 0, size big-endian).
void demultiplex(const std::string& raw, std::string& out, std::string& err);

}  // namespace ctrbench::docker
