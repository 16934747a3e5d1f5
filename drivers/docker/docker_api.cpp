#include "drivers/docker/docker_api.h"

#include <httplib.h>
#include <sys/socket.h>

namespace ctrbench::docker {

Result<DockerApi::Reply> DockerApi::call(const std::string& method, const std::string& path, const std::string& body,
                                         const std::string& content_type, std::chrono::milliseconds timeout,
                                         std::initializer_list<int> expect) {
    httplib::Client cli(socket_);
    cli.set_address_family(AF_UNIX);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout) + std::chrono::seconds(1));
    cli.set_write_timeout(std::chrono::seconds(60));
    const std::string what = "docker " + method + " " + path.substr(0, path.find('?'));
    // Over a unix socket httplib would send the socket path as Host, which Docker rejects.
    const httplib::Headers headers = {{"Host", "localhost"}};
    httplib::Result res(nullptr, httplib::Error::Unknown);
    if (method == "GET")
        res = cli.Get(path, headers);
    else if (method == "POST")
        res = cli.Post(path, headers, body, content_type);
    else if (method == "DELETE")
        res = cli.Delete(path, headers);
    else
        return fail_msg(what + ": unsupported method");
    if (!res) {
        auto e = res.error();
        if (e == httplib::Error::Read && timeout.count() > 0) return fail(Error::sys(ETIMEDOUT, what));
        if (e == httplib::Error::Connection)
            return fail_msg(what + ": cannot connect to " + socket_ + " (is dockerd running? permission?)");
        return fail_msg(what + ": " + httplib::to_string(e));
    }
    Reply r{res->status, res->body};
    for (int ok : expect)
        if (r.status == ok) return r;
    std::string msg = r.body;  // Docker's {"message": ...}, else the body as it came
    auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) msg = j["message"].get<std::string>();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return fail_msg(what + ": HTTP " + std::to_string(r.status) + ": " + msg);
}

Result<nlohmann::json> DockerApi::get_json(const std::string& path) {
    auto r = call("GET", path);
    if (!r) return fail(std::move(r.error()));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return fail_msg("docker GET " + path + ": reply is not JSON");
    return j;
}

Result<nlohmann::json> DockerApi::post_json(const std::string& path, const nlohmann::json& body) {
    auto r = call("POST", path, body.dump());
    if (!r) return fail(std::move(r.error()));
    if (r->body.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return fail_msg("docker POST " + path + ": reply is not JSON");
    return j;
}

void demultiplex(const std::string& raw, std::string& out, std::string& err) {
    std::size_t i = 0;
    while (i + 8 <= raw.size()) {
        auto stream = static_cast<unsigned char>(raw[i]);
        std::size_t n = (static_cast<std::size_t>(static_cast<unsigned char>(raw[i + 4])) << 24) |
                        (static_cast<std::size_t>(static_cast<unsigned char>(raw[i + 5])) << 16) |
                        (static_cast<std::size_t>(static_cast<unsigned char>(raw[i + 6])) << 8) |
                        static_cast<std::size_t>(static_cast<unsigned char>(raw[i + 7]));
        i += 8;
        std::string chunk = raw.substr(i, std::min(n, raw.size() - i));
        i += n;
        (stream == 2 ? err : out) += chunk;
    }
}

}  // namespace ctrbench::docker
