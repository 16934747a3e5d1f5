// config.json of an OCI bundle (runtime-spec 1.0.2, config.md and config-linux.md) made from a
// ContainerSpec, so crun, runc and runsc run exactly what the other drivers run: the oci driver's
// bundles and the containerd driver's container spec.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drivers/driver.h"

namespace ctrbench::oci {

struct ConfigOptions {
    std::string cgroups_path;  // relative: the runtime nests it under its own cgroup
    bool rootless = false;
};

Result<nlohmann::json> make_config(const ContainerSpec& spec, const ConfigOptions& options);

}  // namespace ctrbench::oci
