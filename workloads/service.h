// The service workloads (seeds 001 and 003): how soon an HTTP service gives its first correct answer
// (GET /?key=888888 -> {"value": 888888}, the body checked, not only the status), booted cold or
// restored from a CRIU checkpoint, with `--param app=python|jvm` (workloads/service/: Flask; a JVM
// server whose start-up loads ~10000 classes and warms a cache). They run on the `service` image
// whatever the run's image is (the stack's minimal candidate in the matrix), with the container's own
// network, the harness polling the service's published endpoint every millisecond.
//   service            cold: create, start, exec (the service is started detached), response (its boot
//                      until the first correct 200). Figure "ready_ms": create..first 200.
//   service-restored   the service is started once per parameter (untimed), and dumped once it
//                      answered; each run: create, start, exec (`criu restore` in the container, as the
//                      checkpoint workload), response (first correct 200). "ready_ms" as above. A driver
//                      whose engine checkpoints whole containers (podman and docker with runc) restores a new
//                      container with it: "ready_ms" = the engine's restore + the first 200.
//   service-pool       seed 001's pre-start: `--param pool=N` containers (namespaces, cgroup, network)
//                      are created and started before the runs; a request takes one, restores the JVM
//                      service into it and waits for its first 200 ("ready_ms"); then a new container
//                      takes its place ("refill_ms", off the request's path). pool=0: no pool, every
//                      request creates and starts its container first (a plain restore).
#pragma once

#include <filesystem>

#include "workloads/workload.h"

namespace ctrbench {

struct ServicePool;

class ServiceWorkload final : public Workload {
public:
    enum class Mode { Cold, Restored, Pool };
    static constexpr int kPort = 8080;
    static constexpr long kKey = 888888;  // seed 001's request
    static constexpr const char* kImage = "service";
    static constexpr const char* kWork = "/tmp/ctrbench-service";  // the container's own: criu's logs, pid
    static constexpr std::chrono::milliseconds kPollInterval{1};

    explicit ServiceWorkload(Mode mode) : mode_(mode) {}
    std::string name() const override;
    std::string description() const override;
    std::string param_name() const override { return mode_ == Mode::Pool ? "pool" : "app"; }
    std::vector<std::string> param_values() const override;
    bool accepts(const std::string& value) const override;
    std::string param_hint() const override;
    std::string image() const override { return kImage; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
    Status prepare(ContainerSpec& spec, const std::string& param) const override;
    Result<Setup> setup(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool awaits_response() const override { return true; }
    Result<Outcome> await_response(Container& c, const std::string& param,
                                   std::chrono::milliseconds deadline) const override;
    bool reports_ready() const override { return true; }
    bool measures_itself_with(const Capabilities& caps) const override;
    Result<Outcome> measure(Driver& driver, const ContainerSpec& base, const std::string& param) const override;
    std::map<std::string, std::string> versions() const override;
    std::map<std::string, long long> metadata() const override {
        return {{"service_poll_interval_ms", kPollInterval.count()}};
    }
    int default_runs() const override { return 5; }
    int default_warmup() const override { return 0; }

    // The service's command line in the image.
    static std::vector<std::string> service_command(const std::string& app);
    // Polls http://ENDPOINT/?key=kKey until a 200 whose body is {"value": kKey}, at most `deadline`:
    // the polls it took, or why not (a wrong body is an error at once).
    static Result<int> first_correct_answer(const std::string& endpoint, std::chrono::milliseconds deadline);

private:
    Status fill_pool(Driver& driver, const ContainerSpec& base, const BindMount& images, const std::string& param,
                     ServicePool& pool) const;
    std::string app(const std::string& param) const { return mode_ == Mode::Pool ? "jvm" : param; }
    Mode mode_;
};

}  // namespace ctrbench
