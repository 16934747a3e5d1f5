#include "drivers/common/oci_config.h"

#include <cctype>
#include <cmath>

#include "drivers/common/capabilities.h"

namespace ctrbench::oci {
namespace {

using json = nlohmann::json;

// The runtime spec's names are upper case: "CAP_CHOWN".
json capability_names(std::uint64_t mask) {
    json names = json::array();
    std::string all = describe_mask(mask) + ",";
    std::string cur;
    for (char c : all) {
        if (c == ',') {
            if (!cur.empty()) names.push_back(cur);
            cur.clear();
        } else {
            cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    return names;
}

json mount(const std::string& dest, const std::string& type, const std::string& source, json options) {
    return {{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(options)}};
}

}  // namespace

Result<json> make_config(const ContainerSpec& spec, const ConfigOptions& options) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    auto caps = capability_mask(spec.add_caps);
    if (!caps) return fail(std::move(caps.error()));
    json capset = capability_names(*caps);

    json mounts = json::array({
        mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
        mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
    });
    if (spec.read_only_rootfs)
        mounts.push_back(mount("/tmp", "tmpfs", "tmpfs",
                               {"nosuid", "nodev", "mode=1777", "size=" + std::to_string(spec.limits.writable_bytes)}));
    for (const auto& m : spec.mounts)
        mounts.push_back(
            mount(m.target, "bind", m.source.string(), {"rbind", m.read_only ? "ro" : "rw", "nosuid", "nodev"}));

    json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
    if (spec.network != NetworkMode::Host) namespaces.push_back({{"type", "network"}});
    if (options.rootless) namespaces.push_back({{"type", "user"}});

    json resources = json::object();
    // The default device rule denies all; the runtime adds the standard devices (config-linux.md).
    resources["devices"] = json::array({{{"allow", false}, {"access", "rwm"}}});
    if (spec.limits.memory_bytes)
        resources["memory"] = {{"limit", spec.limits.memory_bytes}, {"swap", spec.limits.memory_bytes}};
    if (spec.limits.cpus > 0)
        resources["cpu"] = {{"quota", std::llround(spec.limits.cpus * 100000)}, {"period", 100000}};
    if (spec.limits.pids) resources["pids"] = {{"limit", spec.limits.pids}};

    json linux = {
        {"namespaces", namespaces},
        {"resources", resources},
        // As docker masks them (moby oci/defaults.go).
        {"maskedPaths",
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
          "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}},
        {"readonlyPaths", {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
    };
    if (!options.cgroups_path.empty()) linux["cgroupsPath"] = options.cgroups_path;

    json config = {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", spec.init},
          {"env", spec.env},
          {"cwd", spec.workdir},
          {"capabilities", {{"bounding", capset}, {"effective", capset}, {"permitted", capset}}},
          {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", spec.read_only_rootfs}}},
        {"hostname", spec.hostname.empty() ? spec.name : spec.hostname},
        {"mounts", mounts},
        {"linux", linux},
    };
    return config;
}

}  // namespace ctrbench::oci
