// A thin client of the Docker Engine API (v1.41, docker 20.10) over its unix socket, with
// cpp-httplib. Every call returns the decoded JSON or an Error naming the call and Docker's message.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace ctrbench::docker {

class DockerApi {
public:
    explicit DockerApi(std::string socket = "/run/docker.sock") : socket_(std::move(socket)) {}
    const std::string& socket() const { return socket_; }

    struct Reply {
        int status = 0;
        std::string body;
    };
    // `expect` lists the statuses that mean success; anything else becomes an Error.
    Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& content_type = "application/json",
                       std::chrono::milliseconds timeout = std::chrono::seconds(60),
                       std::initializer_list<int> expect = {200, 201, 204});
    Result<nlohmann::json> get_json(const std::string& path);
    Result<nlohmann::json> post_json(const std::string& path, const nlohmann::json& body);

private:
    std::string socket_;
};

// Docker's multiplexed attach stream (8-byte frame headers: stream, 0, 0, 0, size big-endian).
void demultiplex(const std::string& raw, std::string& out, std::string& err);

}  // namespace ctrbench::docker
