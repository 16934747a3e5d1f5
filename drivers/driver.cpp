#include "drivers/driver.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace ctrbench {

// The idle first process every driver starts unless the spec names another. It forks nothing, so it
// does not compete with the exec phase for the CPU (an idle shell forking `sleep` did, measurably).
const std::vector<std::string> kIdleInit = {"/bin/sleep", "infinity"};

std::string owned_name(const std::string& what) {
    return "ctrbench-" + std::to_string(::getpid()) + "-" + what;
}

int owner_pid(const std::string& name) {
    for (std::string prefix : {"ctrbench-test-", "ctrbench-"})
        if (name.starts_with(prefix) && name.size() > prefix.size() &&
            std::isdigit(static_cast<unsigned char>(name[prefix.size()])))
            return std::atoi(name.c_str() + prefix.size());
    return 0;
}

bool owner_gone(const std::string& name) {
    int pid = owner_pid(name);
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

bool adds_capability(const ContainerSpec& spec, const std::string& name) {
    auto norm = [](std::string s) {
        for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        return s.starts_with("CAP_") ? s.substr(4) : s;
    };
    for (const auto& c : spec.add_caps)
        if (norm(c) == norm(name)) return true;
    return false;
}

Status validate(const ContainerSpec& spec) {
    if (spec.name.empty()) return fail_msg("container name is empty");
    for (char c : spec.name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return fail_msg("container name '" + spec.name + "' may only hold letters, digits, '-', '_' and '.'");
    const auto& host = spec.hostname.empty() ? spec.name : spec.hostname;
    if (host.size() > 64)  // HOST_NAME_MAX: sethostname(2) refuses more
        return fail_msg("hostname '" + host.substr(0, 20) + "…' is longer than 64 characters (" +
                        std::to_string(host.size()) + "; the container's name is its hostname unless one is given)");
    if (spec.init.empty()) return fail_msg("no first process given");
    if (spec.limits.cpus < 0) return fail_msg("cpu limit must not be negative");
    if (spec.limits.memory_bytes != 0 && spec.limits.memory_bytes < (4ULL << 20))
        return fail_msg("memory limit below 4 MiB cannot start a container");
    if (spec.limits.pids < 0) return fail_msg("pids limit must not be negative");
    if (spec.timeout.count() <= 0) return fail_msg("timeout must be positive");
    if (spec.workdir.empty() || spec.workdir.front() != '/') return fail_msg("working directory must be absolute");
    for (const auto& m : spec.mounts)
        if (m.target.empty() || m.target.front() != '/')
            return fail_msg("mount target '" + m.target + "' is not absolute");
    return {};
}

void DriverRegistry::add(std::string name, std::string description, std::vector<std::string> runtimes, Factory make) {
    entries_.push_back({std::move(name), std::move(description), std::move(runtimes), std::move(make)});
}

std::vector<std::string> DriverRegistry::runtimes(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return e.runtimes;
    return {};
}

std::vector<std::string> DriverRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
}

std::string DriverRegistry::description(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return e.description;
    return {};
}

std::unique_ptr<Driver> DriverRegistry::make(const std::string& name, const std::string& runtime) const {
    for (const auto& e : entries_) {
        if (e.name != name) continue;
        if (runtime.empty()) return e.make(e.runtimes.empty() ? "" : e.runtimes.front());
        if (std::find(e.runtimes.begin(), e.runtimes.end(), runtime) == e.runtimes.end()) return nullptr;
        return e.make(runtime);
    }
    return nullptr;
}

}  // namespace ctrbench
