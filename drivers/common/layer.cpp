#include "drivers/common/layer.h"

#include <sys/mount.h>

namespace ctrbench {
namespace fs = std::filesystem;

Result<LayerStorage> parse_layer_storage(const std::string& driver, const std::string& storage) {
    if (storage == "overlay") return LayerStorage::Disk;
    if (storage == "tmpfs") return LayerStorage::Tmpfs;
    return fail_msg(driver + " has no storage '" + storage + "' (valid: overlay = upper layer on disk under " +
                    kLayerRoot + ", tmpfs = upper layer in RAM)");
}

std::string layer_storage_name(LayerStorage storage) {
    return storage == LayerStorage::Disk ? "overlay" : "tmpfs";
}

fs::path layer_dir(const std::string& driver, const std::string& container) {
    return fs::path(kLayerRoot) / driver / container;
}

std::vector<std::string> sweep_stale_layers(const std::string& driver) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(kLayerRoot) / driver, ec)) {
        if (!owner_gone(e.path().filename().string())) continue;
        ::umount2((e.path() / "rootfs").c_str(), MNT_DETACH);  // an OCI bundle's overlay
        std::error_code rec;
        fs::remove_all(e.path(), rec);
        removed.push_back("writable layer " + e.path().string());
    }
    return removed;
}

}  // namespace ctrbench
