// A skeleton driver: every hook of drivers/driver.h, when the harness calls it and what it must
// guarantee. Copy this file to drivers/<name>/, fill the hooks, add one line to
// drivers/registry.cpp. It is built as a library of its own (so it keeps up with the contract) and
// run by the conformance tests, where it reports itself skipped; the harness does not register it.
//
// The harness calls, for every run:
//   t0  driver.create(spec)   -> tc   container->start() -> ts   container->exec(cmd) -> te
//       container->stop()     -> tx   container->clean() -> td
// and times each call from outside with a monotonic clock. A driver never prints and never times.
#include "drivers/skeleton/skeleton_driver.h"

namespace ctrbench::skeleton {
namespace {

class SkeletonContainer final : public Container {
public:
    // The destructor is the last resort of cleanup: a run that failed half-way, a timeout or Ctrl-C
    // drops the handle without stop()/clean(). Make it remove whatever create() made.
    ~SkeletonContainer() override { (void)clean(); }

    // Required. created -> running. Start the spec's first process (spec.init: an idle process)
    // and return once it runs. Engine examples: `crun start`, POST /containers/{id}/start.
    Status start() override { return fail_msg("skeleton: start not implemented"); }

    // Required. Run argv inside the running container, wait at most `timeout`, and return its exit
    // code, stdout and stderr (ExecResult::kMaxOutput each). On timeout kill the command and set
    // timed_out; set oom_killed when the memory limit killed a process meanwhile. An Error means the
    // exec could not happen at all (e.g. the binary is missing), not that the command failed.
    Result<ExecResult> exec(const std::vector<std::string>& /*argv*/, std::chrono::milliseconds /*timeout*/) override {
        return fail_msg("skeleton: exec not implemented");
    }

    // Required. running -> stopped: when this returns, no process of the container is left.
    Status stop() override { return {}; }

    // Required. stopped -> gone: remove the rootfs layer, cgroup, bundle, engine state. Idempotent:
    // it may be called again by the destructor.
    Status clean() override { return {}; }
};

class SkeletonDriver final : public Driver {
public:
    // The name users type after --driver; lower case, one word.
    std::string name() const override { return "skeleton"; }
    std::string description() const override { return "a template that runs nothing"; }

    // What the engine supports. The harness skips workloads by these flags, never by name.
    Capabilities capabilities() const override { return {}; }

    // Can this host run the driver? Cheap and side-effect free: find the binary, ping the socket,
    // read the version. When not available, `reason` says why in one line a user can act on
    // ("docker: daemon not running at /run/docker.sock"). Fill runtime/storage/versions for the
    // candidate columns and the metadata.
    Probe probe() override {
        Probe p;
        p.reason = "the skeleton driver is a template";
        return p;
    }

    // Required. nothing -> created: prepare rootfs, cgroup and config; no process of the spec runs
    // yet. Validate first (validate(spec)), then map the spec: limits (1 CPU, 1 GiB, pids), network
    // mode, mounts, read-only rootfs, capabilities. Anything made before a failure is removed here.
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override {
        if (auto s = validate(spec); !s) return fail(std::move(s.error()));
        return fail_msg("skeleton: create not implemented");
    }
};

}  // namespace

std::unique_ptr<Driver> make_skeleton_driver() {
    return std::make_unique<SkeletonDriver>();
}

}  // namespace ctrbench::skeleton
