// What a run records about the host in its metadata (host_probe.h finds what candidates need).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ctrbench {

std::string host_name();
// Whether a filesystem of type `fstype` ("" = any) is mounted at `where` (/proc/self/mounts).
bool mounted_at(const std::string& fstype, const std::string& where);
// "v2", "v1 hybrid (cgroup2 at /sys/fs/cgroup/unified)" or "v1"
std::string cgroup_mode();
// "v1" or "v2": the hierarchy a candidate's cgroup column names.
std::string cgroup_version();
nlohmann::json host_metadata();
// UTC, ISO 8601 with milliseconds.
std::string utc_now();
// A run's id: UTC time and this process's pid, "20261122T174637-4242".
std::string run_id_now();

}  // namespace ctrbench
