// The `containerd` driver: containerd's gRPC API on its unix socket (/run/containerd/containerd.sock),
// the way Docker, Kubernetes' CRI and nerdctl talk to it, in the namespace "ctrbench". The stubs are
// generated at build time from the .proto files Debian ships (drivers/containerd/protos.cmake).
// Phases: create = Snapshots.Prepare (an overlayfs snapshot on the image's committed snapshot),
//                  Containers.Create (the OCI spec of drivers/common/oci_config, the runtime
//                  io.containerd.runc.v2 with the runtime's binary in its options), Tasks.Create
//                  (the shim starts and the runtime creates the first process);
//         start  = Tasks.Start;
//         exec   = Tasks.Exec + Tasks.Start of the exec (stdout and stderr on two FIFOs the shim
//                  writes), read until both close, Tasks.Wait for the exit status, Tasks.DeleteProcess;
//         stop   = Tasks.Kill (SIGKILL, every process), Tasks.Wait, Tasks.Delete;
//         clean  = Containers.Delete, Snapshots.Remove.
// The image becomes a committed snapshot once (untimed prepare): the image's tar extracted into a
// snapshot made for it, labelled as a garbage-collection root. The runtime parameter (runc, crun,
// kata) picks the shim: runc and crun through the runc shim (its options' binary_name), kata through
// io.containerd.kata.v2 where containerd-shim-kata-v2 is installed.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "drivers/driver.h"

namespace ctrbench::containerd {

inline constexpr const char* kContainerdSocket = "/run/containerd/containerd.sock";
inline constexpr const char* kNamespace = "ctrbench";
inline constexpr const char* kSnapshotter = "overlayfs";
inline constexpr const char* kFifoDir = "/run/ctrbench/containerd";  // one directory per container

class Api;  // the gRPC channel and stubs (containerd_driver.cpp)

class ContainerdDriver final : public Driver {
public:
    explicit ContainerdDriver(std::string runtime = "runc", std::string socket = kContainerdSocket);
    ~ContainerdDriver() override;
    std::string name() const override { return "containerd"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // The shim for a runtime parameter: "io.containerd.runc.v2" (runc, crun) or
    // "io.containerd.kata.v2"; empty for a runtime the driver does not know.
    static std::string shim_for(const std::string& runtime);
    // The committed snapshot of an image: "ctrbench-image-<image>-<16 hex of the tar's sha256>".
    static Result<std::string> image_snapshot(const ContainerSpec& spec);

private:
    std::shared_ptr<Api> api();

    std::string runtime_;
    std::string socket_;
    std::shared_ptr<Api> api_;
    std::once_flag api_made_, swept_;
};

}  // namespace ctrbench::containerd
