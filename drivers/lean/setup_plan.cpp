#include "drivers/lean/setup_plan.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ctrbench::lean {
namespace {

using Kind = SetupOp::Kind;

SetupOp mount_op(std::string source, std::string target, std::string fstype, unsigned long flags, std::string data,
                 std::string what) {
    SetupOp op{Kind::Mount};
    op.source = std::move(source);
    op.target = std::move(target);
    op.fstype = std::move(fstype);
    op.flags = flags;
    op.data = std::move(data);
    op.what = std::move(what);
    return op;
}

SetupOp mkdir_op(std::string path, mode_t mode, std::string what) {
    SetupOp op{Kind::Mkdir};
    op.target = std::move(path);
    op.mode = mode;
    op.tolerate_exists = true;
    op.what = std::move(what);
    return op;
}

// A bind mount made read-only needs a second, remounting call (mount(2): MS_RDONLY is ignored on
// the first MS_BIND).
void add_readonly_bind(std::vector<SetupOp>& ops, const std::string& source, const std::string& target,
                       unsigned long extra, const std::string& label) {
    ops.push_back(mount_op(source, target, "", MS_BIND | MS_REC, "", "bind " + label));
    ops.push_back(
        mount_op("", target, "", MS_REMOUNT | MS_BIND | MS_RDONLY | extra, "", "remount " + label + " read-only"));
}

// Device nodes of a minimal /dev, as the OCI runtime spec lists them (config-linux.md, default devices).
struct DevNode {
    const char* name;
    unsigned major, minor;
};
constexpr DevNode kDevNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
constexpr std::uint64_t kDevShmBytes = 64ULL << 20;  // Docker's --shm-size default

}  // namespace

namespace {

// The staging tmpfs and the rootfs on it: the image read-only, or an overlay with its writable layer.
void plan_rootfs(std::vector<SetupOp>& ops, const PlanInput& in, const std::string& root) {
    // Nothing we mount may propagate back to the host.
    ops.push_back(mount_op("", "/", "", MS_REC | MS_PRIVATE, "", "make / private"));
    ops.push_back(mount_op("tmpfs", in.stage, "tmpfs", MS_NOSUID | MS_NODEV,
                           "mode=0755,size=" + std::to_string(in.writable_bytes), "mount staging tmpfs"));
    ops.push_back(mkdir_op(root, 0755, "mkdir staging root"));
    if (in.read_only_rootfs) {
        // nodev on every filesystem the container can write or reach, so a node made with CAP_MKNOD
        // cannot open a host device (docker relies on the devices cgroup for the same).
        add_readonly_bind(ops, in.rootfs_ref, root, MS_NODEV | MS_NOSUID, "rootfs");
        return;
    }
    const std::string layer = in.layer_dir.empty() ? in.stage : in.layer_dir;
    ops.push_back(mkdir_op(layer + "/upper", 0755, "mkdir overlay upper " + layer + "/upper"));
    ops.push_back(mkdir_op(layer + "/work", 0755, "mkdir overlay work " + layer + "/work"));
    ops.push_back(mount_op("overlay", root, "overlay", MS_NODEV,
                           "lowerdir=" + in.rootfs_ref + ",upperdir=" + layer + "/upper,workdir=" + layer + "/work",
                           "mount overlay rootfs"));
}

// /proc with its kernel knobs read-only.
void plan_proc(std::vector<SetupOp>& ops, const PlanInput& in, const std::string& root) {
    ops.push_back(mkdir_op(root + "/proc", 0555, "mkdir /proc"));
    ops.push_back(
        mount_op("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mount proc on /proc"));
    if (!in.kernel) return;
    for (const auto& p : in.kernel->read_only)
        add_readonly_bind(ops, root + p.path, root + p.path, MS_NOSUID | MS_NODEV | MS_NOEXEC, p.path);
}

// Masked kernel files: the container's own /dev/null over a file, an empty read-only tmpfs over a
// directory (after /dev exists).
void plan_masks(std::vector<SetupOp>& ops, const PlanInput& in, const std::string& root) {
    if (!in.kernel) return;
    for (const auto& p : in.kernel->masked) {
        if (p.is_dir)
            ops.push_back(mount_op("tmpfs", root + p.path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                   "size=0", "mask " + p.path));
        else
            ops.push_back(mount_op(root + "/dev/null", root + p.path, "", MS_BIND, "", "mask " + p.path));
    }
}

// A read-only /dev of its own with the usual nodes (in a user namespace, the host's bound onto
// empty files), links and a writable /dev/shm.
void plan_dev(std::vector<SetupOp>& ops, const std::string& root, bool userns) {
    ops.push_back(mkdir_op(root + "/dev", 0755, "mkdir /dev"));
    ops.push_back(mount_op("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536",
                           "mount tmpfs on /dev"));
    for (const auto& d : kDevNodes) {
        SetupOp op{Kind::Mknod};
        op.target = root + "/dev/" + d.name;
        op.mode = userns ? S_IFREG | 0666 : S_IFCHR | 0666;
        op.dev = userns ? 0 : makedev(d.major, d.minor);
        op.what = std::string(userns ? "create /dev/" : "mknod /dev/") + d.name;
        ops.push_back(op);
        if (userns)
            ops.push_back(mount_op(std::string("/dev/") + d.name, op.target, "", MS_BIND, "",
                                   std::string("bind the host's /dev/") + d.name));
    }
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    for (const auto& [to, name] : links) {
        SetupOp op{Kind::Symlink};
        op.source = to;
        op.target = root + "/dev/" + name;
        op.what = std::string("symlink /dev/") + name;
        ops.push_back(op);
    }
    // /dev/shm, writable, as Docker gives it (POSIX shared memory; CRIU keeps its kernel-probe cache
    // there): a tmpfs of the container's own, charged to its memory cgroup, gone with its namespace.
    ops.push_back(mkdir_op(root + "/dev/shm", 01777, "mkdir /dev/shm"));
    ops.push_back(mount_op("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           "mode=1777,size=" + std::to_string(kDevShmBytes), "mount tmpfs on /dev/shm"));
    ops.push_back(mount_op("", root + "/dev", "", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                           "mode=0755,size=65536", "remount /dev read-only"));
}

// One bind mount: mkdir -p of the target's parents, the target itself (a directory, or a file to
// mount over), then the bind.
void plan_bind(std::vector<SetupOp>& ops, const PlanInput::Bind& b, const std::string& root) {
    std::size_t pos = 1;
    while (true) {
        auto next = b.target.find('/', pos);
        bool last = next == std::string::npos;
        std::string path = root + b.target.substr(0, last ? std::string::npos : next);
        if (last && !b.is_dir) {
            SetupOp op{Kind::Mknod};
            op.target = path;
            op.mode = S_IFREG | 0644;
            op.tolerate_exists = true;
            op.what = "create mount point " + b.target;
            ops.push_back(op);
        } else {
            ops.push_back(mkdir_op(path, 0755, "mkdir " + b.target));
        }
        if (last) break;
        pos = next + 1;
    }
    if (b.read_only)
        add_readonly_bind(ops, b.source_ref, root + b.target, MS_NOSUID | MS_NODEV, b.target);
    else
        ops.push_back(mount_op(b.source_ref, root + b.target, "", MS_BIND | MS_REC, "", "bind " + b.target));
}

}  // namespace

const KernelPaths& kernel_paths() {
    static const KernelPaths paths = [] {
        KernelPaths k;
        auto add = [](std::vector<KernelPath>& into, const char* p) {
            struct stat st;
            if (std::string_view(p).starts_with("/proc/") && ::stat(p, &st) == 0)
                into.push_back({p, S_ISDIR(st.st_mode)});
        };
        for (const char* p : kMaskedPaths) add(k.masked, p);
        for (const char* p : kReadOnlyPaths) add(k.read_only, p);
        return k;
    }();
    return paths;
}

std::vector<SetupOp> plan_setup(const PlanInput& in) {
    std::vector<SetupOp> ops;
    const std::string root = in.stage + "/root";
    plan_rootfs(ops, in, root);
    plan_proc(ops, in, root);
    plan_dev(ops, root, in.userns);
    plan_masks(ops, in, root);
    if (in.read_only_rootfs)
        ops.push_back(mount_op("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                               "mode=1777,size=" + std::to_string(in.writable_bytes), "mount writable tmpfs on /tmp"));
    for (const auto& b : in.binds) plan_bind(ops, b, root);

    SetupOp pivot{Kind::PivotRoot};
    pivot.target = root;
    pivot.what = "pivot_root into the rootfs";
    ops.push_back(pivot);
    SetupOp host{Kind::SetHostname};
    host.target = in.hostname;
    host.what = "sethostname " + in.hostname;
    ops.push_back(host);
    if (in.own_netns) {
        SetupOp lo{Kind::LoopbackUp};
        lo.what = "bring up lo";
        ops.push_back(lo);
    }
    return ops;
}

namespace {

class RealSyscalls final : public SetupSyscalls {
public:
    int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
              const char* data) const override {
        return ::mount(source, target, fstype, flags, data);
    }
    int mkdir(const char* path, mode_t mode) const override { return ::mkdir(path, mode); }
    int mknod(const char* path, mode_t mode, dev_t dev) const override { return ::mknod(path, mode, dev); }
    int symlink(const char* target, const char* link) const override { return ::symlink(target, link); }
    int chdir(const char* path) const override { return ::chdir(path); }
    int pivot_root(const char* new_root, const char* put_old) const override {
        return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
    }
    int umount2(const char* target, int flags) const override { return ::umount2(target, flags); }
    int sethostname(const char* name, std::size_t len) const override { return ::sethostname(name, len); }
    int loopback_up() const override {
        int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) return -1;
        struct ifreq ifr {};
        std::memcpy(ifr.ifr_name, "lo", 3);
        bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
        if (ok) {
            ifr.ifr_flags |= IFF_UP;
            ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
        }
        int err = errno;
        ::close(s);
        errno = err;
        return ok ? 0 : -1;
    }
};

const char* or_null(const std::string& s) {
    return s.empty() ? nullptr : s.c_str();
}

bool apply_one(const SetupOp& op, const SetupSyscalls& sys) {
    switch (op.kind) {
        case Kind::Mount:
            return sys.mount(or_null(op.source), op.target.c_str(), or_null(op.fstype), op.flags, or_null(op.data)) ==
                   0;
        case Kind::Mkdir:
            return sys.mkdir(op.target.c_str(), op.mode) == 0 || (op.tolerate_exists && errno == EEXIST);
        case Kind::Mknod:
            return sys.mknod(op.target.c_str(), op.mode, op.dev) == 0 || (op.tolerate_exists && errno == EEXIST);
        case Kind::Symlink:
            return sys.symlink(op.source.c_str(), op.target.c_str()) == 0;
        case Kind::PivotRoot:
            // pivot_root(".", ".") stacks the old root on the new one; detaching "." then drops the
            // whole host tree from this namespace (pivot_root(2), NOTES).
            return sys.chdir(op.target.c_str()) == 0 && sys.pivot_root(".", ".") == 0 &&
                   sys.umount2(".", MNT_DETACH) == 0 && sys.chdir("/") == 0;
        case Kind::SetHostname:
            return sys.sethostname(op.target.c_str(), op.target.size()) == 0;
        case Kind::LoopbackUp:
            return sys.loopback_up() == 0;
    }
    errno = EINVAL;
    return false;
}

}  // namespace

const SetupSyscalls& real_syscalls() {
    static const RealSyscalls real;
    return real;
}

bool apply_setup(const std::vector<SetupOp>& ops, int& errno_out, const char*& what_out, const SetupSyscalls& sys) {
    for (const auto& op : ops) {
        if (!apply_one(op, sys)) {
            errno_out = errno;
            what_out = op.what.c_str();
            return false;
        }
    }
    return true;
}

}  // namespace ctrbench::lean
