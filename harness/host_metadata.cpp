#include "harness/host_metadata.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace ctrbench {
namespace {

std::string first_value(const std::string& file, const std::string& key, char sep) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with(key)) continue;
        auto pos = line.find(sep);
        if (pos == std::string::npos) continue;
        std::string v = line.substr(pos + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '"')) v.erase(0, 1);
        while (!v.empty() && (v.back() == '"' || v.back() == ' ')) v.pop_back();
        return v;
    }
    return "";
}

}  // namespace

bool mounted_at(const std::string& fstype, const std::string& where) {
    std::ifstream in("/proc/self/mounts");
    std::string dev, mnt, type, rest;
    while (in >> dev >> mnt >> type && std::getline(in, rest))
        if ((fstype.empty() || type == fstype) && mnt == where) return true;
    return false;
}

std::string host_name() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

std::string cgroup_mode() {
    if (mounted_at("cgroup2", "/sys/fs/cgroup")) return "v2";
    if (mounted_at("cgroup2", "/sys/fs/cgroup/unified")) return "v1 hybrid (cgroup2 at /sys/fs/cgroup/unified)";
    return "v1";
}

std::string cgroup_version() {
    return cgroup_mode() == "v2" ? "v2" : "v1";
}

std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms));
    return out;
}

nlohmann::json host_metadata() {
    utsname u{};
    ::uname(&u);
    nlohmann::json j;
    j["hostname"] = host_name();
    j["kernel"] = u.release;
    j["kernel_version"] = u.version;
    j["arch"] = u.machine;
    j["os"] = first_value("/etc/os-release", "PRETTY_NAME", '=');
    j["cpu_model"] = first_value("/proc/cpuinfo", "model name", ':');
    j["cores"] = ::sysconf(_SC_NPROCESSORS_ONLN);
    auto mem = first_value("/proc/meminfo", "MemTotal", ':');
    j["memory_kib"] = mem.empty() ? 0 : std::stoll(mem);
    j["cgroup_mode"] = cgroup_mode();
    j["kvm"] = std::filesystem::exists("/dev/kvm");
    return j;
}

std::string run_id_now() {
    std::string compact;
    for (char c : utc_now().substr(0, 19))
        if (c != '-' && c != ':') compact += c;
    return compact + "-" + std::to_string(::getpid());
}

}  // namespace ctrbench
