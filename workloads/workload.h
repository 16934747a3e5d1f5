// The workload contract: what runs inside a container and how to check it really ran. The same
// workload object runs on every driver; the harness owns timing and repetition.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench {

struct Outcome {
    double value = 0;  // the workload's own figure (rows read, files extracted, ...); 0 when none
    std::string unit;  // empty when the workload has no figure of its own
};

class Workload {
public:
    virtual ~Workload() = default;
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    // The parameter's name ("db", "count") and its values; empty name = the workload takes none.
    virtual std::string param_name() const { return ""; }
    virtual std::vector<std::string> param_values() const { return {}; }
    // Untimed, once per parameter before the runs: makes sure the dataset exists under `data_root`
    // (generating it, telling `progress` how far along) and returns what to bind into the container.
    using Progress = std::function<void(const std::string& what, double fraction)>;
    virtual Result<std::vector<BindMount>> data(const std::string& /*param*/, const std::filesystem::path& /*data_root*/,
                                                const Progress& /*progress*/) const {
        return std::vector<BindMount>{};
    }
    // Adjusts the spec for this parameter (capabilities, network) before create.
    virtual Status prepare(ContainerSpec& /*spec*/, const std::string& /*param*/) const { return {}; }
    // The command exec'd in the running container.
    virtual std::vector<std::string> command(const std::string& param) const = 0;
    // Did the work happen? An error names what is wrong with the result.
    virtual Result<Outcome> check(const ExecResult& result, const std::string& param) const = 0;
};

class WorkloadRegistry {
public:
    void add(std::unique_ptr<Workload> w) { all_.push_back(std::move(w)); }
    const Workload* find(const std::string& name) const;
    std::vector<std::string> names() const;
    const std::vector<std::unique_ptr<Workload>>& all() const { return all_; }

private:
    std::vector<std::unique_ptr<Workload>> all_;
};

WorkloadRegistry builtin_workloads();

// The common check: the command exited 0; else an error naming how it ended and its stderr.
Status expect_success(const ExecResult& r);

}  // namespace ctrbench
