// Applying a capability mask (drivers/common/capabilities.h) in the lean container's child.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/common/capabilities.h"

namespace ctrbench::lean {

// Drops every capability outside `keep` from the bounding, inheritable, permitted and effective sets
// and the ambient set. Async-signal-safe (raw syscalls), for the child before exec.
bool apply_capabilities(std::uint64_t keep, int last_cap);

// The capabilities this process holds (its permitted set): the most a container it starts can keep.
std::uint64_t held_capabilities();

// The common set plus `add` (capability_mask), refused in one line when it holds one this process lacks.
Result<std::uint64_t> container_capabilities(const std::vector<std::string>& add);

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

}  // namespace ctrbench::lean
