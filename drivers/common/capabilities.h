// Capabilities a container keeps, the same on every driver: Docker's default set (moby
// oci/caps/defaults.go) without NET_RAW, as Podman has it, plus any the spec adds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace ctrbench {

// Bit i set = capability i kept.
Result<std::uint64_t> capability_mask(const std::vector<std::string>& add);
// "CAP_CHOWN,CAP_KILL,..." for messages and tests.
std::string describe_mask(std::uint64_t mask);

}  // namespace ctrbench
