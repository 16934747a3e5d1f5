#include "drivers/lean/capabilities.h"

#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

namespace ctrbench::lean {
int last_capability() {
    static const int last = [] {
        std::ifstream in("/proc/sys/kernel/cap_last_cap");
        int v = CAP_LAST_CAP;
        in >> v;
        return v;
    }();
    return last;
}

bool apply_capabilities(std::uint64_t keep, int last_cap) {
    for (int c = 0; c <= last_cap; ++c)
        if (!(keep & (1ULL << c)) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return false;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return false;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int i = 0; i < 2; ++i) {
        auto word = static_cast<std::uint32_t>(keep >> (32 * i));
        // Inheritable stays empty, as in Docker: nothing passes to a program through file capabilities
        // beyond the bounding set (the pattern of CVE-2022-24769).
        data[i].effective = data[i].permitted = word;
    }
    return ::syscall(SYS_capset, &hdr, data) == 0;
}

std::uint64_t held_capabilities() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &hdr, data) != 0) return 0;
    return static_cast<std::uint64_t>(data[0].permitted) | (static_cast<std::uint64_t>(data[1].permitted) << 32);
}

Result<std::uint64_t> container_capabilities(const std::vector<std::string>& add) {
    auto caps = capability_mask(add);
    if (!caps) return caps;
    // A container keeps at most what this process holds: capset would refuse the rest at exec, late
    // and with only EPERM to say (this project's hosts run root without CAP_SYS_RESOURCE).
    if (const std::uint64_t missing = *caps & ~held_capabilities(); missing != 0)
        return fail_msg("lean: the container would keep " + describe_mask(missing) +
                        ", which this process does not hold (its bounding set lacks it)");
    return caps;
}

}  // namespace ctrbench::lean
