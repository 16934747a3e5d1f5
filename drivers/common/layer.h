// The writable layer of the drivers that build their own overlay rootfs (lean, crun, runc, runsc):
// the candidate's storage column for them.
//   overlay  the overlay's upper and work directories on the host's disk, under
//            kLayerRoot/<driver>/<container>, as docker's overlay2 and podman's overlay keep theirs
//            under /var/lib: the default, so that every driver writes to the same kind of storage;
//   tmpfs    the upper layer in RAM, a tmpfs of Limits::writable_bytes: faster writes, but what the
//            work writes must fit in it (tar-extract count=100000 does not fit in 256 MiB).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench {

inline constexpr const char* kLayerRoot = "/var/lib/ctrbench/layers";

enum class LayerStorage { Disk, Tmpfs };

// "overlay" -> Disk, "tmpfs" -> Tmpfs; else an error naming the driver and the valid names.
Result<LayerStorage> parse_layer_storage(const std::string& driver, const std::string& storage);
std::string layer_storage_name(LayerStorage storage);

// Where one container's layer lives on disk: kLayerRoot/<driver>/<container name>.
std::filesystem::path layer_dir(const std::string& driver, const std::string& container);

// Removes the layers under kLayerRoot/<driver> of ctrbench processes that are gone (killed with
// SIGKILL before they could clean). Mounts on them are detached first. Returns what it removed.
std::vector<std::string> sweep_stale_layers(const std::string& driver);

}  // namespace ctrbench
