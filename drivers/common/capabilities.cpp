#include "drivers/common/capabilities.h"

#include <linux/capability.h>
#include <sys/capability.h>

#include <cctype>

namespace ctrbench {
namespace {

// Docker's default set without NET_RAW (as Podman's): no raw sockets unless a workload (ping) asks.
constexpr int kDefault[] = {CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,     CAP_FOWNER,  CAP_MKNOD,
                            CAP_SETGID,     CAP_SETUID,       CAP_SETFCAP,    CAP_SETPCAP, CAP_NET_BIND_SERVICE,
                            CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE};

}  // namespace

Result<std::uint64_t> capability_mask(const std::vector<std::string>& add) {
    std::uint64_t mask = 0;
    for (int c : kDefault) mask |= 1ULL << c;
    for (const auto& raw : add) {
        std::string name;
        for (char ch : raw) name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (!name.starts_with("cap_")) name = "cap_" + name;
        cap_value_t v;
        if (cap_from_name(name.c_str(), &v) != 0) return fail_msg("unknown capability '" + raw + "'");
        mask |= 1ULL << v;
    }
    return mask;
}

std::string describe_mask(std::uint64_t mask) {
    std::string out;
    for (int c = 0; c < 64; ++c) {
        if (!(mask & (1ULL << c))) continue;
        char* n = cap_to_name(c);
        if (!out.empty()) out += ',';
        out += n;
        cap_free(n);
    }
    return out;
}

}  // namespace ctrbench
