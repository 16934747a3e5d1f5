#include "drivers/kata/kata_driver.h"

#include "core/process.h"

namespace ctrbench::kata {

std::string KataDriver::why_not(bool shim_v2, bool kata_runtime) {
    if (shim_v2 || kata_runtime) return "";
    return "Kata Containers is not installed (Debian 12 does not package it): no containerd-shim-kata-v2 for "
           "containerd, no kata-runtime for docker";
}

KataDriver::KataDriver(const EngineFactory& containerd_kata, const EngineFactory& docker_kata) {
    const bool shim = !find_program("containerd-shim-kata-v2").empty();
    const bool runtime = !find_program("kata-runtime").empty();
    why_not_ = why_not(shim, runtime);
    if (shim && containerd_kata) {
        engine_ = containerd_kata();
        runtime_column_ = "kata";
    } else if (runtime && docker_kata) {
        engine_ = docker_kata();
        runtime_column_ = "kata-runtime";
    }
}

std::string KataDriver::description() const {
    if (!engine_) return "Kata Containers (not on this host)";
    return runtime_column_ == "kata" ? "Kata Containers under containerd (containerd-shim-kata-v2)"
                                     : "Kata Containers under docker (kata-runtime)";
}

Capabilities KataDriver::capabilities() const {
    Capabilities c = engine_ ? engine_->capabilities() : Capabilities{};
    c.vm = true;
    c.host_sees_oom = false;  // the guest's kernel accounts the memory
    return c;
}

Probe KataDriver::probe() {
    if (engine_ && why_not_.empty()) {
        auto p = engine_->probe();
        p.runtime = runtime_column_;
        return p;
    }
    Probe p;
    p.runtime = "kata";
    p.reason = why_not_;
    return p;
}

Status KataDriver::prepare(const ContainerSpec& spec) {
    if (!engine_) return fail_msg("kata: " + why_not_);
    return engine_->prepare(spec);
}

Status KataDriver::use_storage(const std::string& storage) {
    return engine_ ? engine_->use_storage(storage) : Status{};
}

std::vector<std::string> KataDriver::sweep_dead() {
    return engine_ ? engine_->sweep_dead() : std::vector<std::string>{};
}

Result<std::unique_ptr<Container>> KataDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    if (!engine_) return fail_msg("kata: " + why_not_);
    return engine_->create(spec);
}

}  // namespace ctrbench::kata
