// The workload contract: what runs inside a container and how to check it really ran. The same
// workload object runs on every driver; the harness owns timing and repetition.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "workloads/probe_result.h"

namespace ctrbench {

struct Outcome {
    double value = 0;    // the workload's own figure (rows read, files extracted, ...); 0 when none
    std::string unit;    // empty when the workload has no figure of its own
    std::string detail;  // more figures for the JSON samples ("rtt min/avg/max = ..."); may be empty
    // The isolation workload's: a CSV row each after the run's. The {} keeps GCC's
    // -Wmissing-field-initializers quiet about Outcome{value, unit, detail}.
    std::vector<ProbeResult> probes{};  // NOLINT(readability-redundant-member-init)
    // Named figures of the run besides the one above, for the JSON samples and the console's tables
    // (checkpoint: "restore_ms", "execution_ms").
    std::map<std::string, double> figures{};  // NOLINT(readability-redundant-member-init)
};

class Workload {
public:
    virtual ~Workload() = default;
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    // The parameter's name ("db", "count") and its values; empty name = the workload takes none.
    virtual std::string param_name() const { return ""; }
    virtual std::vector<std::string> param_values() const { return {}; }
    // Whether `value` is a valid parameter (default: one of param_values), and how to say which are.
    virtual bool accepts(const std::string& value) const;
    virtual std::string param_hint() const;
    // Untimed, once per parameter before the runs: makes sure the dataset exists under `data_root`
    // (generating it, telling `progress` how far along) and returns what to bind into the container.
    using Progress = std::function<void(const std::string& what, double fraction)>;
    virtual Result<std::vector<BindMount>> data(const std::string& /*param*/,
                                                const std::filesystem::path& /*data_root*/,
                                                const Progress& /*progress*/) const {
        return std::vector<BindMount>{};
    }
    // Untimed, once per parameter after data() and the driver's prepare, for work that needs a container
    // of the driver itself (checkpoint: the process it restores in every run is dumped here, once).
    // `mounts` go into every run's spec; `figures` (the dump's time) into every run's figures; `keep` is held for the
    // parameter's runs and its destructor removes what this made. An error is one error row for the parameter.
    struct Setup {
        std::vector<BindMount> mounts;
        std::map<std::string, double> figures;
        std::shared_ptr<void> keep;
    };
    virtual Result<Setup> setup(Driver& /*driver*/, const ContainerSpec& /*base*/, const std::string& /*param*/) const {
        return Setup{};
    }
    // Why this workload cannot run on a driver with `caps` and the image at `rootfs` (a network the
    // driver cannot give, a tool the image lacks); empty when it can. The runner reports it "skipped".
    virtual std::string unsupported(const Capabilities& /*caps*/, const std::filesystem::path& /*rootfs*/) const {
        return "";
    }
    // The image this workload runs on whatever the run's image is (service: "service"); empty = the run's.
    virtual std::string image() const { return ""; }
    // Adjusts the spec for this parameter (capabilities, network) before create.
    virtual Status prepare(ContainerSpec& /*spec*/, const std::string& /*param*/) const { return {}; }
    // The command exec'd in the running container. An argument "{host}" is replaced by the address of
    // the host end of the container's own link (Container::host_end) before the exec.
    virtual std::vector<std::string> command(const std::string& param) const = 0;
    // Did the work happen? An error names what is wrong with the result.
    virtual Result<Outcome> check(const ExecResult& result, const std::string& param) const = 0;

    // Workloads with a response (http): after a successful exec, wait until the service inside
    // answers; the runner times this as t_response = tr - te. The outcome replaces check's.
    virtual bool awaits_response() const { return false; }
    // Whether a run's figures include "ready_ms": create until the response (the service workloads).
    virtual bool reports_ready() const { return false; }
    virtual Result<Outcome> await_response(Container& /*c*/, const std::string& /*param*/,
                                           std::chrono::milliseconds /*deadline*/) const {
        return fail_msg("this workload has no response to wait for");
    }

    // Workloads that are not one container's phases (throughput) measure a whole run themselves from
    // a template spec; the runner records their outcome with empty phase columns.
    virtual bool measures_itself() const { return false; }
    // The same for a driver with `caps` (checkpoint: with an engine that restores whole containers).
    virtual bool measures_itself_with(const Capabilities& /*caps*/) const { return measures_itself(); }
    virtual Result<Outcome> measure(Driver& /*driver*/, const ContainerSpec& /*base*/,
                                    const std::string& /*param*/) const {
        return fail_msg("this workload is measured through the phases");
    }
    // Runs per parameter when the user gives no --runs (0: the harness's default).
    virtual int default_runs() const { return 0; }
    virtual int default_warmup() const { return -1; }  // -1: the harness's default
    static constexpr int kHarnessRuns = 20, kHarnessWarmup = 3;
    // The runs and warmups to do: `given` on the command line (0 / -1: none), else this workload's
    // default, else the harness's.
    int runs_or(int given) const { return given > 0 ? given : default_runs() > 0 ? default_runs() : kHarnessRuns; }
    int warmup_or(int given) const {
        return given >= 0 ? given : default_warmup() >= 0 ? default_warmup() : kHarnessWarmup;
    }
    // Versions of the tools it runs besides the engine's ("criu" -> "4.2.1"), for the metadata's versions.
    virtual std::map<std::string, std::string> versions() const { return {}; }
    // Settings of its own that a run's metadata records with the options ("http_poll_interval_ms").
    virtual std::map<std::string, long long> metadata() const { return {}; }
    // Published figures to print beside this run's, by figure name then parameter ("restore_ms" ->
    // "16" -> 5.2), and where they come from; empty when the workload reproduces no table.
    struct Reference {
        std::string source;
        std::map<std::string, std::map<std::string, double>> figures;
    };
    virtual Reference reference() const { return {}; }
    // Runs in the quick matrix (--quick), of the smallest parameter only, no warmup.
    virtual int quick_runs() const { return 1; }

    // --tools native: run the image's own tools (sqlite3, tar, cat) instead of the agent, where the
    // workload has such a form (the thesis's base-image comparison).
    virtual bool has_native_tools() const { return false; }
    void set_native_tools(bool on) { native_ = on; }
    bool native_tools() const { return native_; }

protected:
    bool native_ = false;
};

class WorkloadRegistry {
public:
    void add(std::unique_ptr<Workload> w) { all_.push_back(std::move(w)); }
    const Workload* find(const std::string& name) const;
    std::vector<std::string> names() const;
    const std::vector<std::unique_ptr<Workload>>& all() const { return all_; }
    Workload* find_mutable(const std::string& name);

private:
    std::vector<std::unique_ptr<Workload>> all_;
};

WorkloadRegistry builtin_workloads();

// "1".."max" (free-valued parameters: ping count, throughput concurrency).
bool positive_number(const std::string& value, int max);

// The common check: the command exited 0; else an error naming how it ended and its stderr.
Status expect_success(const ExecResult& r);

}  // namespace ctrbench
