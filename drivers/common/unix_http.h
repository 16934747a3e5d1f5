// A client of a daemon's REST API on its unix socket (Docker's, LXD's), with cpp-httplib. Every
// call returns the reply or an Error naming the engine, the call and the daemon's own message.
#pragma once

#include <chrono>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace ctrbench {

class UnixHttp {
public:
    // `engine` names the calls in errors ("docker GET /info"), `daemon` the process a refused
    // connection points at ("is dockerd running?").
    UnixHttp(std::string socket, std::string engine, std::string daemon)
        : socket_(std::move(socket)), engine_(std::move(engine)), daemon_(std::move(daemon)) {}
    const std::string& socket() const { return socket_; }

    struct Reply {
        int status = 0;
        std::string body;
    };
    // `expect` lists the statuses that mean success; anything else becomes an Error carrying the
    // daemon's message (Docker's {"message"}, LXD's {"error"}). A timeout is ETIMEDOUT.
    Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& content_type = "application/json",
                       std::chrono::milliseconds timeout = std::chrono::seconds(60),
                       std::initializer_list<int> expect = {200, 201, 202, 204});
    // The reply's body as JSON ({} when empty).
    Result<nlohmann::json> json(const std::string& method, const std::string& path,
                                const nlohmann::json& body = nullptr,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    std::string socket_, engine_, daemon_;
};

}  // namespace ctrbench
