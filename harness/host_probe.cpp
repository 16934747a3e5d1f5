#include "harness/host_probe.h"

#include <fstream>
#include <sstream>

#include "core/process.h"
#include "harness/host_metadata.h"
#include "harness/runner.h"

namespace ctrbench {
namespace fs = std::filesystem;
namespace {

std::set<std::string> kernel_filesystems() {
    std::set<std::string> out;
    std::ifstream in("/proc/filesystems");
    for (std::string line; std::getline(in, line);) {
        auto tab = line.rfind('\t');
        out.insert(tab == std::string::npos ? line : line.substr(tab + 1));
    }
    return out;
}

// A cgroup under `root` that holds processes, or "": not ours (named by the naming scheme), not
// where an engine puts its containers (`engine_parents`), not systemd-machined's (machine.slice).
std::string busy_cgroup(const fs::path& root, const std::set<std::string>& engine_parents) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_directory(ec)) continue;
        auto rel = fs::relative(it->path(), root, ec).string();
        const auto top = rel.substr(0, rel.find('/'));
        if (owner_pid(top) != 0 || engine_parents.contains(top) || top.starts_with("machine")) {
            it.disable_recursion_pending();
            continue;
        }
        std::ifstream procs(it->path() / "cgroup.procs");
        std::string pid;
        if (procs >> pid) return "/" + rel;
    }
    return "";
}

}  // namespace

std::string cgroup_switch_blocker(const std::set<std::string>& engine_parents) {
    if (cgroup_version() == "v2")
        return "ctrbench switches hosts from v1 to v2 only (back from v2 needs a reboot with "
               "systemd.unified_cgroup_hierarchy=0)";
    std::ifstream in("/proc/self/mounts");
    std::string dev, mnt, type, opts, rest;
    while (in >> dev >> mnt >> type >> opts && std::getline(in, rest)) {
        if (type != "cgroup") continue;
        if (auto busy = busy_cgroup(mnt, engine_parents); !busy.empty())
            return fs::path(mnt).filename().string() + ":" + busy +
                   " holds processes ctrbench did not start (a reboot with cgroup_no_v1=all would)";
    }
    return "";
}

HostFacts gather_host_facts(const DriverRegistry& drivers, const CandidateFile& file, const fs::path& images_dir,
                            const std::set<std::string>& managers) {
    HostFacts h;
    std::set<std::string> engine_parents;
    h.cgroup = cgroup_version();
    h.filesystems = kernel_filesystems();
    for (const auto& [name, req] : file.runtimes)
        if (!req.program.empty() && !find_program(req.program).empty()) h.programs.insert(req.program);
    for (const auto& [name, req] : file.storage) {
        if (!req.program.empty() && !find_program(req.program).empty()) h.programs.insert(req.program);
        if (!req.device.empty() && fs::exists(req.device)) h.devices.insert(req.device);
    }
    for (const auto& image : file.images)
        if (image_rootfs(images_dir, image)) h.images.insert(image);
    for (const auto& name : drivers.names()) {
        const bool probe = managers.empty() || managers.contains(name);
        auto runtimes = drivers.runtimes(name);
        if (runtimes.empty()) {
            auto d = drivers.make(name);
            if (probe) {
                auto p = d->probe();
                h.drivers[name] = p.available ? "" : p.reason;
            }
            if (d->capabilities().rootless) h.rootless_drivers.insert(name);
            for (const auto& parent : d->capabilities().cgroup_parents) engine_parents.insert(parent);
            continue;
        }
        for (const auto& rt : runtimes) {
            auto d = drivers.make(name, rt);
            if (probe) {
                auto p = d->probe();
                h.drivers[name + "/" + rt] = p.available ? "" : p.reason;
            }
            if (d->capabilities().rootless) h.rootless_drivers.insert(name);
            for (const auto& parent : d->capabilities().cgroup_parents) engine_parents.insert(parent);
        }
    }
    h.cgroup_switch = cgroup_switch_blocker(engine_parents);
    return h;
}

}  // namespace ctrbench
