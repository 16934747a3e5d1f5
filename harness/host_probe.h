// Probes this machine for the HostFacts that evaluate() checks candidates against: drivers, kernel
// filesystems, programs, devices, images (the metadata of a run is host_metadata.h).
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "drivers/driver.h"
#include "harness/candidates.h"

namespace ctrbench {

// Probes each driver named in `managers` (every runtime under it; empty: every driver) once; reads
// /proc/filesystems, PATH, images. A driver not probed has no entry in HostFacts::drivers.
HostFacts gather_host_facts(const DriverRegistry& drivers, const CandidateFile& file,
                            const std::filesystem::path& images_dir, const std::set<std::string>& managers = {});

// Why this host cannot switch between cgroup v1 and v2 without a reboot ("" = it can): switching
// needs every v1 hierarchy free of processes in child cgroups, so that its controllers can move.
// Cgroups ctrbench made and those under `engine_parents` (Capabilities::cgroup_parents) do not count.
std::string cgroup_switch_blocker(const std::set<std::string>& engine_parents);

}  // namespace ctrbench
