#include "drivers/docker/docker_api.h"

#include <algorithm>

namespace ctrbench::docker {

Result<DockerApi::Reply> DockerApi::call(const std::string& method, const std::string& path, const std::string& body,
                                         const std::string& content_type, std::chrono::milliseconds timeout,
                                         std::initializer_list<int> expect) {
    return http_.call(method, path, body, content_type, timeout, expect);
}

Result<nlohmann::json> DockerApi::get_json(const std::string& path) {
    return http_.json("GET", path);
}

Result<nlohmann::json> DockerApi::post_json(const std::string& path, const nlohmann::json& body) {
    return http_.json("POST", path, body);
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
