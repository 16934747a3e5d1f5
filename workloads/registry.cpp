#include "workloads/boot.h"
#include "workloads/io.h"
#include "workloads/workload.h"

namespace ctrbench {

const Workload* WorkloadRegistry::find(const std::string& name) const {
    for (const auto& w : all_)
        if (w->name() == name) return w.get();
    return nullptr;
}

std::vector<std::string> WorkloadRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& w : all_) out.push_back(w->name());
    return out;
}

WorkloadRegistry builtin_workloads() {
    WorkloadRegistry r;
    r.add(std::make_unique<BootWorkload>());
    r.add(std::make_unique<SqliteReadWorkload>());
    r.add(std::make_unique<SqliteWriteWorkload>());
    r.add(std::make_unique<FilesReadWorkload>());
    r.add(std::make_unique<TarExtractWorkload>());
    return r;
}

Status expect_success(const ExecResult& r) {
    if (r.ok()) return {};
    std::string err = r.err.substr(0, 200);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return fail_msg("command " + r.describe() + (err.empty() ? "" : ": " + err));
}

}  // namespace ctrbench
