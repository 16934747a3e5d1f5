// The `microvm` driver: the VM-isolation class (what Kata does under the hood), from Debian's QEMU
// and kernel: `qemu-system-x86_64 -M microvm`, direct boot of Debian's kernel uncompressed (the
// qemu_microvm role extracts it: a bzImage's xz payload takes ~3.5 s more to unpack under TCG than
// the uncompressed ELF, measured here), the image as an initramfs (an uncompressed cpio, made once
// per image by prepare()), ctrbench-agent as the guest's first process speaking to the harness over
// the serial port (workloads/agent/guest_init.cpp has the protocol).
// Phases: create = the VM's files: the initramfs (the image's, plus a cpio of each bind mount's
//                  files, cached per source, appended) and the kernel command line;
//         start  = qemu started, until the agent in the guest says it is ready;
//         exec   = the agent runs the command in the guest's container cgroup, returns output, exit
//                  code, timeout and OOM kills;
//         stop   = the agent syncs and powers the guest off; qemu exits (killed after 10 s);
//         clean  = the VM's directory removed.
// 1 vCPU; the container's limits (1 GiB, pids, CPU quota) are a cgroup inside the guest, whose RAM
// is the limit plus kGuestOverhead for its own kernel and the initramfs. `-accel kvm` where /dev/kvm
// boots guests, `-accel tcg` otherwise (recorded in the probe's versions). The container's processes
// in the guest keep the common capability set (the rest is dropped from their bounding set).
// Network (NetworkMode::Own): a tap device of ctrbench's (drivers/common/veth: the host end of a /30,
// nothing else reachable) given to qemu as a virtio-net device on virtio-mmio; Debian's kernel has
// both as modules, which the qemu_microvm role keeps in kMicrovmDir/modules: the driver appends them
// to the initramfs and the agent loads them (create then also covers the tap device, start the
// modules' loading and eth0's address).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench::microvm {

inline constexpr const char* kMicrovmDir = "/var/lib/ctrbench/microvm";  // vmlinux, image cpios
inline constexpr const char* kRunDir = "/run/ctrbench/microvm";          // one directory per VM
inline constexpr std::uint64_t kGuestOverhead = 256ULL << 20;
inline constexpr int kTapFd = 3;  // the tap device's descriptor in qemu (-netdev tap,fd=3)
// The guest kernel's modules of the network link, in the order they load (each needs the ones before).
inline constexpr const char* kNetModules[] = {"virtio_ring", "virtio",       "virtio_mmio",
                                              "failover",    "net_failover", "virtio_net"};

class MicrovmDriver final : public Driver {
public:
    MicrovmDriver();
    std::string name() const override { return "microvm"; }
    std::string description() const override;
    Capabilities capabilities() const override;
    Probe probe() override;
    Status prepare(const ContainerSpec& spec) override;
    std::vector<std::string> sweep_dead() override;
    Result<std::unique_ptr<Container>> create(const ContainerSpec& spec) override;

    // "tcg" or "kvm": kvm only where /dev/kvm exists and is not a PVM backend (which ordinary guests
    // cannot boot under, HOST-NOTES).
    static std::string choose_accel(bool dev_kvm, bool pvm);
    // The kernel command line and qemu's arguments for a spec: pure, unit-tested. `net`: the guest's
    // eth0 address ("10.213.0.2/30") on the tap device at descriptor kTapFd; empty: no link.
    static std::string kernel_cmdline(const ContainerSpec& spec, const std::string& accel, const std::string& net = "");
    static std::vector<std::string> qemu_args(const ContainerSpec& spec, const std::string& accel,
                                              const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                                              const std::filesystem::path& socket, const std::string& net = "");

private:
    std::string qemu_;
    std::string accel_;
    std::once_flag swept_;
};

}  // namespace ctrbench::microvm
