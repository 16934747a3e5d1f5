// The lean runtime's seccomp filter: Docker's default profile (moby profiles/seccomp/default.json)
// for the native architecture (Docker also admits the 32-bit ABIs; here they get ENOSYS: the images
// are 64-bit, and the filter is a third the size), built once per capability set with libseccomp and
// loaded by the container's processes just before they exec (after no_new_privs). Calls outside
// the profile fail with EPERM; clone3 with ENOSYS (so libc falls back to clone, whose namespace
// flags are refused without CAP_SYS_ADMIN); calls a capability unlocks are allowed when the
// container holds that capability, as Docker does.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "core/error.h"

namespace ctrbench::lean {

struct SeccompProgram {
    std::vector<sock_filter> code;
    sock_fprog prog{};  // points into code
};

// The filter for a container holding `caps` (a capability bit mask), built on first use for each
// mask and kept for the process's life.
Result<const sock_fprog*> default_seccomp_filter(std::uint64_t caps);

// Loads `filter` into the calling thread (async-signal-safe: one syscall); false with errno on error.
bool load_seccomp_filter(const sock_fprog* filter);

}  // namespace ctrbench::lean
