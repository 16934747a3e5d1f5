// A lean container in a user namespace of its own (--userns): its root is host uid kUsernsBase, so
// what it reaches of the host it reaches as an unprivileged user. The parent writes the child's id
// maps; the image's rootfs is used through a copy whose owners are shifted into that range (made
// once per image, like a rootless engine's storage), since a lower layer owned by an unmapped host
// root could not be changed by the container's root.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "core/error.h"

namespace ctrbench::lean {

// Container uid/gid 0..kUsernsSize-1 are host kUsernsBase.. (below /etc/subuid's usual ranges of
// real users, and apart from the 200000 range of the ctrbench-rootless user).
inline constexpr uid_t kUsernsBase = 100000;
inline constexpr uid_t kUsernsSize = 65536;

// Parent side: writes /proc/<pid>/uid_map and gid_map ("0 kUsernsBase kUsernsSize").
Status write_id_maps(pid_t pid);

// The rootfs to use in a user namespace for image rootfs `rootfs`: `<rootfs>-userns-<base>`, a copy
// with every owner shifted by kUsernsBase, made (or remade, when the image changed since) on first use;
// checked once per process (the driver's prepare does it, untimed; create then finds it at once).
Result<std::filesystem::path> userns_rootfs(const std::filesystem::path& rootfs);

// Shifts the owner of `path` and everything under it by kUsernsBase (without following symlinks):
// what a writable layer directory the parent made needs before the container's root can use it.
Status shift_owner(const std::filesystem::path& path);

}  // namespace ctrbench::lean
