#include "drivers/containerd/containerd_driver.h"
#include "drivers/docker/docker_driver.h"
#include "drivers/driver.h"
#include "drivers/kata/kata_driver.h"
#include "drivers/lean/lean_driver.h"
#include "drivers/lxc/lxc_driver.h"
#include "drivers/lxd/lxd_driver.h"
#include "drivers/microvm/microvm_driver.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/podman/podman_driver.h"

namespace ctrbench {

// The table of built-in drivers: one line per driver.
DriverRegistry builtin_drivers() {
    DriverRegistry r;
    r.add("lean", "ctrbench's own runtime (namespaces, overlay, pooled cgroups)", {},
          [](const std::string&) { return std::make_unique<lean::LeanDriver>(); });
    for (const char* rt : {"crun", "runc", "runsc"})
        r.add(rt, std::string("the ") + rt + " OCI runtime", {},
              [rt](const std::string&) { return std::make_unique<oci::OciDriver>(rt); });
    r.add("docker", "Docker Engine API on its unix socket", {"runc", "crun", "runsc"},
          [](const std::string& rt) { return std::make_unique<docker::DockerDriver>(rt); });
    r.add("podman", "podman CLI", {"crun", "runc"},
          [](const std::string& rt) { return std::make_unique<podman::PodmanDriver>(rt); });
    r.add("lxc", "LXC through liblxc's C API", {},
          [](const std::string&) { return std::make_unique<lxc::LxcDriver>(); });
    r.add("lxd", "LXD's REST API on its unix socket", {},
          [](const std::string&) { return std::make_unique<lxd::LxdDriver>(); });
    r.add("containerd", "containerd's gRPC API on its unix socket", {"runc", "crun", "kata"},
          [](const std::string& rt) { return std::make_unique<containerd::ContainerdDriver>(rt); });
    r.add("kata", "Kata Containers (a VM per container) under containerd's kata shim or docker's kata-runtime", {},
          [](const std::string&) {
              return std::make_unique<kata::KataDriver>(
                  [] { return std::make_unique<containerd::ContainerdDriver>("kata"); },
                  [] { return std::make_unique<docker::DockerDriver>("kata-runtime"); });
          });
    r.add("microvm", "a QEMU microvm per container (Debian's kernel, the agent as init)", {},
          [](const std::string&) { return std::make_unique<microvm::MicrovmDriver>(); });
    return r;
}

}  // namespace ctrbench
