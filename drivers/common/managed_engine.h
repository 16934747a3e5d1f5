// What the engines that keep images and networks of their own share (docker and podman today; the
// next managers too): how ctrbench tags its images in them, where a published port and the
// bridge's gateway are in an inspect's NetworkSettings (Docker's and Podman's have the same shape),
// and how they report a command killed by a signal.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench {

// "ctrbench/minimal:<first 16 hex of the image tar's sha256>": a new tag whenever the image changes.
Result<std::string> image_tag(const ContainerSpec& spec);
// The same as one name, for engines whose names take no '/' or ':': "ctrbench-minimal-<16 hex>".
Result<std::string> image_name(const ContainerSpec& spec);

// An engine that drops an image's earlier builds (containerd, lxd, microvm) must not drop one that
// another checkout of ctrbench on the host still uses (two clones, each with its own images, share
// the engines). A build is recorded with the checksum file of the images directory it came from
// (`record_build`); an earlier build is still some checkout's current image (`build_in_use`) while
// that file still names its hash. A build with no record is nobody's. `dir`: the records' directory.
inline constexpr const char* kBuildRecords = "/var/lib/ctrbench/builds";
void record_build(const std::string& engine, const std::string& name, const ContainerSpec& spec,
                  const std::filesystem::path& dir = kBuildRecords);
bool build_in_use(const std::string& engine, const std::string& name, const std::filesystem::path& dir = kBuildRecords);
// Forgets a dropped build's record.
void forget_build(const std::string& engine, const std::string& name, const std::filesystem::path& dir = kBuildRecords);

// For the engines that keep images by tag (docker, podman): of an engine's `tags` ("ctrbench/<image>:
// <hash>", perhaps behind a registry, "localhost/…"), those of the spec's image's earlier builds that
// no checkout uses, to drop once the current one is imported; each with its record's name
// ("ctrbench-<image>-<hash>", the name record_build keeps the build under, image_name's form).
struct UnusedBuild {
    std::string tag, record;
};
std::vector<UnusedBuild> unused_builds(const std::string& engine, const ContainerSpec& spec,
                                       const std::vector<std::string>& tags,
                                       const std::filesystem::path& dir = kBuildRecords);

// "127.0.0.1:PORT" where container port `port`/tcp is published, from an inspect's NetworkSettings.
Result<std::string> published_endpoint(const nlohmann::json& network_settings, int port);
// The bridge's gateway on the host: the host end of the container's link.
Result<std::string> bridge_gateway(const nlohmann::json& network_settings);

// The engines report a command killed by signal N as exit status 128 + N: fills ExecResult::signal.
void decode_signal_exit(ExecResult& r);

}  // namespace ctrbench
