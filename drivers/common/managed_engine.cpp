#include "drivers/common/managed_engine.h"

#include <fstream>

namespace ctrbench {

Result<std::string> published_endpoint(const nlohmann::json& net, int port) {
    auto key = std::to_string(port) + "/tcp";
    if (!net.is_object() || !net.contains("Ports") || !net["Ports"].is_object() || !net["Ports"].contains(key) ||
        !net["Ports"][key].is_array() || net["Ports"][key].empty())
        return fail_msg("no host port is published for container port " + key +
                        " (create with NetworkMode::Own and publish)");
    const auto& b = net["Ports"][key][0];
    std::string ip = b.value("HostIp", std::string());
    std::string hp = b.value("HostPort", std::string());
    if (hp.empty()) return fail_msg("container port " + key + " has no host port");
    return (ip.empty() || ip == "0.0.0.0" ? std::string("127.0.0.1") : ip) + ":" + hp;
}

Result<std::string> bridge_gateway(const nlohmann::json& net) {
    std::string gw = net.is_object() ? net.value("Gateway", std::string()) : "";
    if (gw.empty())
        return fail_msg("the container has no gateway: create it with NetworkMode::Own (the engine's bridge)");
    return gw;
}

Result<std::string> image_tag(const ContainerSpec& spec) {
    auto sha_file = spec.rootfs.parent_path() / (spec.image + ".sha256");
    std::ifstream in(sha_file);
    std::string sha;
    if (!(in >> sha) || sha.size() < 16)
        return fail_msg("image " + spec.image + " has no checksum at " + sha_file.string());
    return "ctrbench/" + spec.image + ":" + sha.substr(0, 16);
}

Result<std::string> image_name(const ContainerSpec& spec) {
    auto name = image_tag(spec);
    if (!name) return name;
    for (char& ch : *name)
        if (ch == '/' || ch == ':') ch = '-';
    return name;
}

namespace {
std::filesystem::path sha_file(const ContainerSpec& spec) {
    return std::filesystem::absolute(spec.rootfs.parent_path() / (spec.image + ".sha256"));
}
}  // namespace

void record_build(const std::string& engine, const std::string& name, const ContainerSpec& spec,
                  const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir / engine, ec);
    const auto record = dir / engine / name;
    const auto tmp = record.string() + ".tmp";
    if (std::ofstream out(tmp); out << sha_file(spec).string() << "\n") std::filesystem::rename(tmp, record, ec);
}

bool build_in_use(const std::string& engine, const std::string& name, const std::filesystem::path& dir) {
    std::ifstream record(dir / engine / name);
    std::string sha_path;
    if (!std::getline(record, sha_path) || sha_path.empty()) return false;
    std::ifstream sha_in(sha_path);
    std::string sha;
    const auto dash = name.rfind('-');
    return dash != std::string::npos && (sha_in >> sha) && sha.size() >= 16 &&
           name.substr(dash + 1) == sha.substr(0, 16);
}

void forget_build(const std::string& engine, const std::string& name, const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::remove(dir / engine / name, ec);
}

std::vector<UnusedBuild> unused_builds(const std::string& engine, const ContainerSpec& spec,
                                       const std::vector<std::string>& tags, const std::filesystem::path& dir) {
    std::vector<UnusedBuild> out;
    auto current = image_tag(spec);
    if (!current) return out;
    const std::string repo = "ctrbench/" + spec.image + ":";
    for (const auto& tag : tags) {
        const auto at = tag.find(repo);
        if (at == std::string::npos || (at > 0 && tag[at - 1] != '/') || tag.substr(at) == *current) continue;
        const std::string hash = tag.substr(at + repo.size());
        if (hash.empty() || hash.find_first_of("/:") != std::string::npos) continue;
        const std::string record = "ctrbench-" + spec.image + "-" + hash;
        if (!build_in_use(engine, record, dir)) out.push_back({tag, record});
    }
    return out;
}

void decode_signal_exit(ExecResult& r) {
    if (r.exit_code > 128 && r.exit_code < 128 + 65) r.signal = r.exit_code - 128;
}

}  // namespace ctrbench
