// What the engines that keep images and networks of their own share (docker and podman today; the
// next managers too): how ctrbench tags its images in them, where a published port and the
// bridge's gateway are in an inspect's NetworkSettings (Docker's and Podman's have the same shape),
// and how they report a command killed by a signal.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drivers/driver.h"

namespace ctrbench {

// "ctrbench/minimal:<first 16 hex of the image tar's sha256>": a new tag whenever the image changes.
Result<std::string> image_tag(const ContainerSpec& spec);
// The same as one name, for engines whose names take no '/' or ':': "ctrbench-minimal-<16 hex>".
Result<std::string> image_name(const ContainerSpec& spec);

// "127.0.0.1:PORT" where container port `port`/tcp is published, from an inspect's NetworkSettings.
Result<std::string> published_endpoint(const nlohmann::json& network_settings, int port);
// The bridge's gateway on the host: the host end of the container's link.
Result<std::string> bridge_gateway(const nlohmann::json& network_settings);

// The engines report a command killed by signal N as exit status 128 + N: fills ExecResult::signal.
void decode_signal_exit(ExecResult& r);

}  // namespace ctrbench
