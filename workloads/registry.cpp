#include <algorithm>

#include "workloads/boot.h"
#include "workloads/checkpoint.h"
#include "workloads/io.h"
#include "workloads/isolation.h"
#include "workloads/net.h"
#include "workloads/service.h"
#include "workloads/throughput.h"
#include "workloads/workload.h"

namespace ctrbench {

const Workload* WorkloadRegistry::find(const std::string& name) const {
    for (const auto& w : all_)
        if (w->name() == name) return w.get();
    return nullptr;
}

Workload* WorkloadRegistry::find_mutable(const std::string& name) {
    for (auto& w : all_)
        if (w->name() == name) return w.get();
    return nullptr;
}

bool Workload::accepts(const std::string& value) const {
    auto v = param_values();
    return std::find(v.begin(), v.end(), value) != v.end();
}

std::string Workload::param_hint() const {
    std::string out;
    for (const auto& v : param_values()) out += (out.empty() ? "" : ", ") + v;
    return out;
}

bool positive_number(const std::string& v, int max) {
    if (v.empty() || v.size() > 7 || v.find_first_not_of("0123456789") != std::string::npos) return false;
    int n = std::stoi(v);
    return n >= 1 && n <= max;
}

std::vector<std::string> WorkloadRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& w : all_) out.push_back(w->name());
    return out;
}

WorkloadRegistry builtin_workloads() {
    WorkloadRegistry r;
    r.add(std::make_unique<BootWorkload>());
    for (auto& w : io_workloads()) r.add(std::move(w));
    r.add(std::make_unique<HttpWorkload>());
    r.add(std::make_unique<PingWorkload>());
    r.add(std::make_unique<ThroughputWorkload>());
    r.add(std::make_unique<IsolationWorkload>());
    r.add(std::make_unique<CheckpointWorkload>(false));
    r.add(std::make_unique<CheckpointWorkload>(true));
    r.add(std::make_unique<ServiceWorkload>(ServiceWorkload::Mode::Cold));
    r.add(std::make_unique<ServiceWorkload>(ServiceWorkload::Mode::Restored));
    r.add(std::make_unique<ServiceWorkload>(ServiceWorkload::Mode::Pool));
    return r;
}

Status expect_success(const ExecResult& r) {
    if (r.ok()) return {};
    std::string err = r.err.substr(0, 200);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return fail_msg("command " + r.describe() + (err.empty() ? "" : ": " + err));
}

}  // namespace ctrbench
