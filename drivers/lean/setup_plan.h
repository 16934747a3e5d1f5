// Plan, then apply (bubblewrap): the parent turns a container's config into a flat list of setup
// operations; the cloned child carries them out in order. The child only makes syscalls on strings
// the parent prepared, so nothing allocates between clone and exec, and the plan is unit-testable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench::lean {

struct SetupOp {
    enum class Kind { Mount, Mkdir, Mknod, Symlink, PivotRoot, SetHostname, LoopbackUp };
    explicit SetupOp(Kind k) : kind(k) {}
    Kind kind;
    std::string source, target, fstype, data;  // Mount; Mkdir/Mknod use target; Symlink: source -> target
    unsigned long flags = 0;                   // Mount flags
    mode_t mode = 0;                           // Mkdir, Mknod
    dev_t dev = 0;                             // Mknod
    bool tolerate_exists = false;              // Mkdir: EEXIST is fine
    std::string what;                          // how an error names this step: "mount proc on /proc"
};

// What a container may not read or change of the kernel's files, as Docker's defaults (moby's
// oci/defaults.go) and the OCI spec's maskedPaths / readonlyPaths: the one list. A masked file gets
// the container's /dev/null bound over it, a masked directory an empty read-only tmpfs; a read-only
// path is bound read-only onto itself. Paths this kernel lacks are left out (kernel_paths()); those
// under /sys are moot here, as a lean container has no sysfs.
inline constexpr const char* kMaskedPaths[] = {"/proc/asound",
                                               "/proc/acpi",
                                               "/proc/kcore",
                                               "/proc/keys",
                                               "/proc/latency_stats",
                                               "/proc/timer_list",
                                               "/proc/timer_stats",
                                               "/proc/sched_debug",
                                               "/proc/scsi",
                                               "/sys/firmware",
                                               "/sys/devices/virtual/powercap"};
inline constexpr const char* kReadOnlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};

struct KernelPath {
    std::string path;  // "/proc/keys"
    bool is_dir = false;
};
struct KernelPaths {
    std::vector<KernelPath> masked, read_only;
};
// The entries of kMaskedPaths and kReadOnlyPaths under /proc that this kernel has (the container's
// procfs is the same kernel's), read once.
const KernelPaths& kernel_paths();

struct PlanInput {
    std::string rootfs_ref;      // a path to the image rootfs valid in the child
    std::string stage = "/tmp";  // host directory the child mounts its staging tmpfs on (private mount ns)
    bool read_only_rootfs = false;
    std::uint64_t writable_bytes = 256ULL << 20;
    // A host directory (made by the caller, removed by it) for the overlay's upper and work
    // directories: the writable layer on disk. Empty: they live on the staging tmpfs (RAM).
    std::string layer_dir;
    std::string hostname;
    bool own_netns = true;
    // In a user namespace of its own: no mknod of devices (the kernel refuses it there); the host's
    // nodes are bound onto empty files instead.
    bool userns = false;
    const KernelPaths* kernel = nullptr;  // what to mask and make read-only (kernel_paths()); none if null
    struct Bind {
        std::string source_ref;  // valid in the child, like rootfs_ref
        std::string target;      // absolute, inside the container
        bool read_only = true;
        bool is_dir = true;
    };
    std::vector<Bind> binds;
};

std::vector<SetupOp> plan_setup(const PlanInput& in);

// The syscalls apply_setup makes, behind one thin interface: the kernel's (real_syscalls) in the
// container's child, a fake in unit tests. Each returns 0 or -1 with errno set, as the syscall does.
class SetupSyscalls {
public:
    virtual int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                      const char* data) const = 0;
    virtual int mkdir(const char* path, mode_t mode) const = 0;
    virtual int mknod(const char* path, mode_t mode, dev_t dev) const = 0;
    virtual int symlink(const char* target, const char* link) const = 0;
    virtual int chdir(const char* path) const = 0;
    virtual int pivot_root(const char* new_root, const char* put_old) const = 0;
    virtual int umount2(const char* target, int flags) const = 0;
    virtual int sethostname(const char* name, std::size_t len) const = 0;
    virtual int loopback_up() const = 0;  // sets IFF_UP on "lo" (socket + SIOCGIFFLAGS/SIOCSIFFLAGS)

protected:
    ~SetupSyscalls() = default;
};
const SetupSyscalls& real_syscalls();

// Carries out ops in order through `sys`. On failure fills errno_out/what_out (the op's `what`),
// applies nothing after it and returns false. Async-signal-safe with real_syscalls(): for use in
// the child between clone and exec.
bool apply_setup(const std::vector<SetupOp>& ops, int& errno_out, const char*& what_out,
                 const SetupSyscalls& sys = real_syscalls());

}  // namespace ctrbench::lean
