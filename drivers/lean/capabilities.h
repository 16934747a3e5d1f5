// Capabilities a container keeps, the same on every driver: Docker's default set (moby
// oci/caps/defaults.go) without NET_RAW, as Podman has it, plus any the spec adds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/error.h"

namespace ctrbench::lean {

// Bit i set = capability i kept.
Result<std::uint64_t> capability_mask(const std::vector<std::string>& add);
// "CAP_CHOWN,CAP_KILL,..." for messages and tests.
std::string describe_mask(std::uint64_t mask);

// Drops every capability outside `keep` from the bounding, inheritable, permitted and effective sets
// and the ambient set. Async-signal-safe (raw syscalls), for the child before exec.
bool apply_capabilities(std::uint64_t keep, int last_cap);

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

}  // namespace ctrbench::lean
