#include "drivers/lean/setup_plan.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>

using namespace ctrbench::lean;
using Kind = SetupOp::Kind;

namespace {

PlanInput input() {
    PlanInput in;
    in.rootfs_ref = "/images/minimal/rootfs";
    in.stage = "/tmp";
    in.hostname = "box";
    static const KernelPaths kernel{{{"/proc/keys", false}, {"/proc/acpi", true}},
                                    {{"/proc/sys", true}, {"/proc/sysrq-trigger", false}}};
    in.kernel = &kernel;
    return in;
}

long index_of(const std::vector<SetupOp>& ops, auto pred) {
    auto it = std::find_if(ops.begin(), ops.end(), pred);
    return it == ops.end() ? -1 : it - ops.begin();
}

}  // namespace

TEST(SetupPlan, FirstMakesEverythingPrivate) {
    auto ops = plan_setup(input());
    ASSERT_FALSE(ops.empty());
    EXPECT_EQ(ops[0].kind, Kind::Mount);
    EXPECT_EQ(ops[0].target, "/");
    EXPECT_EQ(ops[0].flags, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
}

TEST(SetupPlan, OverlayOverTheImageByDefault) {
    auto ops = plan_setup(input());
    auto i = index_of(ops, [](const SetupOp& o) { return o.fstype == "overlay"; });
    ASSERT_GE(i, 0);
    EXPECT_NE(ops[i].data.find("lowerdir=/images/minimal/rootfs"), std::string::npos);
    EXPECT_NE(ops[i].data.find("upperdir=/tmp/upper"), std::string::npos);
    EXPECT_TRUE(ops[i].flags & MS_NODEV) << "nodev: nodes made inside must not open host devices";
}

TEST(SetupPlan, ReadOnlyRootWithWritableTmp) {
    auto in = input();
    in.read_only_rootfs = true;
    auto ops = plan_setup(in);
    EXPECT_EQ(index_of(ops, [](const SetupOp& o) { return o.fstype == "overlay"; }), -1);
    auto ro = index_of(ops, [](const SetupOp& o) {
        return o.target == "/tmp/root" && (o.flags & MS_REMOUNT) && (o.flags & MS_RDONLY);
    });
    EXPECT_GE(ro, 0);
    auto tmp = index_of(ops, [](const SetupOp& o) { return o.target == "/tmp/root/tmp" && o.fstype == "tmpfs"; });
    EXPECT_GT(tmp, ro);
}

TEST(SetupPlan, ProcDevAndPivotInOrder) {
    auto ops = plan_setup(input());
    auto proc = index_of(ops, [](const SetupOp& o) { return o.fstype == "proc"; });
    auto sys_ro =
        index_of(ops, [](const SetupOp& o) { return o.target == "/tmp/root/proc/sys" && (o.flags & MS_RDONLY); });
    auto null =
        index_of(ops, [](const SetupOp& o) { return o.kind == Kind::Mknod && o.target == "/tmp/root/dev/null"; });
    auto dev_ro = index_of(ops, [](const SetupOp& o) { return o.target == "/tmp/root/dev" && (o.flags & MS_RDONLY); });
    auto pivot = index_of(ops, [](const SetupOp& o) { return o.kind == Kind::PivotRoot; });
    auto host = index_of(ops, [](const SetupOp& o) { return o.kind == Kind::SetHostname; });
    EXPECT_LT(proc, sys_ro);
    EXPECT_LT(null, dev_ro);
    EXPECT_LT(dev_ro, pivot);
    EXPECT_LT(pivot, host);
    EXPECT_EQ(ops[host].target, "box");
    EXPECT_EQ(ops[pivot].target, "/tmp/root");
}

TEST(SetupPlan, KernelFilesMaskedAndReadOnlyAsDockerDoes) {
    auto ops = plan_setup(input());
    auto at = [&](const std::string& target, auto pred) {
        return index_of(ops, [&](const SetupOp& o) { return o.target == target && pred(o); });
    };
    auto null = at("/tmp/root/dev/null", [](const SetupOp& o) { return o.kind == Kind::Mknod; });
    auto keys = at("/tmp/root/proc/keys", [](const SetupOp& o) { return o.kind == Kind::Mount; });
    auto acpi = at("/tmp/root/proc/acpi", [](const SetupOp& o) { return o.kind == Kind::Mount; });
    auto sysrq = at("/tmp/root/proc/sysrq-trigger", [](const SetupOp& o) { return (o.flags & MS_RDONLY) != 0; });
    auto pivot = index_of(ops, [](const SetupOp& o) { return o.kind == Kind::PivotRoot; });
    ASSERT_GE(keys, 0);
    ASSERT_GE(acpi, 0);
    ASSERT_GE(sysrq, 0);
    EXPECT_EQ(ops[keys].source, "/tmp/root/dev/null") << "a masked file reads as the container's /dev/null";
    EXPECT_EQ(ops[keys].flags, static_cast<unsigned long>(MS_BIND));
    EXPECT_EQ(ops[acpi].fstype, "tmpfs");
    EXPECT_TRUE(ops[acpi].flags & MS_RDONLY) << "a masked directory is an empty read-only tmpfs";
    EXPECT_LT(null, keys);
    EXPECT_LT(keys, pivot);
    EXPECT_LT(acpi, pivot);
    // The list itself: what this kernel has of Docker's defaults, under /proc only.
    const auto& k = kernel_paths();
    auto has = [](const std::vector<KernelPath>& v, const std::string& p) {
        return std::any_of(v.begin(), v.end(), [&](const KernelPath& x) { return x.path == p; });
    };
    EXPECT_TRUE(has(k.masked, "/proc/keys"));
    EXPECT_TRUE(has(k.masked, "/proc/timer_list"));
    EXPECT_TRUE(has(k.read_only, "/proc/sys"));
    EXPECT_FALSE(has(k.masked, "/sys/firmware")) << "a lean container has no sysfs to mask";
}

TEST(SetupPlan, BindMountsMakeTheirParents) {
    auto in = input();
    in.binds.push_back({"/srv/data", "/data/db/main", true, true});
    auto ops = plan_setup(in);
    for (const char* dir : {"/tmp/root/data", "/tmp/root/data/db", "/tmp/root/data/db/main"})
        EXPECT_GE(index_of(ops, [&](const SetupOp& o) { return o.kind == Kind::Mkdir && o.target == dir; }), 0) << dir;
    auto bind = index_of(ops, [](const SetupOp& o) { return o.source == "/srv/data" && (o.flags & MS_BIND); });
    ASSERT_GE(bind, 0);
    EXPECT_TRUE(ops[bind + 1].flags & MS_RDONLY) << "read-only binds are remounted read-only";
}

TEST(SetupPlan, LoopbackOnlyWithItsOwnNetwork) {
    auto in = input();
    auto has_lo = [](const std::vector<SetupOp>& ops) {
        return index_of(ops, [](const SetupOp& o) { return o.kind == Kind::LoopbackUp; }) >= 0;
    };
    EXPECT_TRUE(has_lo(plan_setup(in)));
    in.own_netns = false;
    EXPECT_FALSE(has_lo(plan_setup(in)));
}

TEST(SetupPlan, EveryStepNamesItself) {
    for (const auto& op : plan_setup(input())) EXPECT_FALSE(op.what.empty());
}

// apply_setup through a fake of its syscalls: what the child does, in order, and how it stops.
namespace {

class FakeSyscalls final : public SetupSyscalls {
public:
    mutable std::vector<std::string> calls;  // "mount proc /proc proc 14", "chdir /", ...
    std::string fail_on;                     // a call (prefix) that fails with fail_errno
    int fail_errno = EPERM;
    std::set<std::string> existing;  // paths mkdir/mknod find already there (EEXIST)

    int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
              const char* data) const override {
        return record("mount " + str(source) + " " + target + " " + str(fstype) + " " + std::to_string(flags) + " " +
                      str(data));
    }
    int mkdir(const char* path, mode_t) const override {
        return exists(path) ? -1 : record("mkdir " + std::string(path));
    }
    int mknod(const char* path, mode_t, dev_t) const override {
        return exists(path) ? -1 : record("mknod " + std::string(path));
    }
    int symlink(const char* target, const char* link) const override {
        return record("symlink " + std::string(target) + " " + link);
    }
    int chdir(const char* path) const override { return record("chdir " + std::string(path)); }
    int pivot_root(const char* a, const char* b) const override {
        return record("pivot_root " + std::string(a) + " " + b);
    }
    int umount2(const char* target, int flags) const override {
        return record("umount2 " + std::string(target) + " " + std::to_string(flags));
    }
    int sethostname(const char* name, std::size_t len) const override {
        return record("sethostname " + std::string(name, len));
    }
    int loopback_up() const override { return record("loopback_up"); }

private:
    static std::string str(const char* s) { return s ? s : "-"; }
    bool exists(const char* path) const {  // true: recorded, errno EEXIST
        if (!existing.contains(path)) return false;
        calls.push_back("exists " + std::string(path));
        errno = EEXIST;
        return true;
    }
    int record(const std::string& call) const {
        calls.push_back(call);
        if (!fail_on.empty() && call.starts_with(fail_on)) {
            errno = fail_errno;
            return -1;
        }
        return 0;
    }
};

SetupOp op(Kind k, std::string target, std::string what) {
    SetupOp o(k);
    o.target = std::move(target);
    o.what = std::move(what);
    return o;
}

}  // namespace

TEST(ApplySetup, MakesEachOpsSyscallsInOrder) {
    std::vector<SetupOp> ops;
    auto m = op(Kind::Mount, "/stage", "mount staging tmpfs");
    m.source = "tmpfs";
    m.fstype = "tmpfs";
    m.flags = MS_NOSUID;
    m.data = "size=1";
    ops.push_back(m);
    ops.push_back(op(Kind::Mkdir, "/stage/root", "mkdir root"));
    ops.push_back(op(Kind::PivotRoot, "/stage/root", "pivot_root"));
    ops.push_back(op(Kind::SetHostname, "box", "sethostname"));
    ops.push_back(op(Kind::LoopbackUp, "", "lo up"));
    FakeSyscalls fake;
    int err = 0;
    const char* what = nullptr;
    ASSERT_TRUE(apply_setup(ops, err, what, fake));
    const std::vector<std::string> expected = {"mount tmpfs /stage tmpfs " + std::to_string(MS_NOSUID) + " size=1",
                                               "mkdir /stage/root",
                                               "chdir /stage/root",
                                               "pivot_root . .",
                                               "umount2 . " + std::to_string(MNT_DETACH),
                                               "chdir /",
                                               "sethostname box",
                                               "loopback_up"};
    EXPECT_EQ(fake.calls, expected);
}

TEST(ApplySetup, StopsAtTheFirstFailureAndNamesItsStepAndErrno) {
    auto ops = plan_setup(input());
    FakeSyscalls fake;
    fake.fail_on = "pivot_root";
    fake.fail_errno = EINVAL;
    int err = 0;
    const char* what = nullptr;
    ASSERT_FALSE(apply_setup(ops, err, what, fake));
    EXPECT_EQ(err, EINVAL);
    ASSERT_NE(what, nullptr);
    auto pivot = index_of(ops, [](const SetupOp& o) { return o.kind == Kind::PivotRoot; });
    ASSERT_GE(pivot, 0);
    EXPECT_STREQ(what, ops[pivot].what.c_str());
    // Nothing after the failed step: the host tree was never detached, no hostname was set.
    EXPECT_EQ(fake.calls.back(), "pivot_root . .");
    EXPECT_EQ(std::count_if(fake.calls.begin(), fake.calls.end(),
                            [](const std::string& c) { return c.starts_with("sethostname"); }),
              0);
}

TEST(ApplySetup, AnExistingDirectoryIsFineOnlyWhereThePlanSaysSo) {
    FakeSyscalls fake;
    fake.existing = {"/a"};
    int err = 0;
    const char* what = nullptr;
    auto tolerant = op(Kind::Mkdir, "/a", "mkdir /a");
    tolerant.tolerate_exists = true;
    EXPECT_TRUE(apply_setup({tolerant, op(Kind::Mkdir, "/b", "mkdir /b")}, err, what, fake));
    EXPECT_EQ(fake.calls, (std::vector<std::string>{"exists /a", "mkdir /b"}));
    fake.calls.clear();
    EXPECT_FALSE(apply_setup({op(Kind::Mkdir, "/a", "mkdir /a"), op(Kind::Mkdir, "/b", "mkdir /b")}, err, what, fake));
    EXPECT_EQ(err, EEXIST);
    EXPECT_STREQ(what, "mkdir /a");
    EXPECT_EQ(fake.calls, (std::vector<std::string>{"exists /a"}));
}

TEST(ApplySetup, AWholePlanMountsNothingFromTheHostAfterThePivot) {
    auto in = input();
    in.binds.push_back({"/data/db", "/data", true, true});
    auto ops = plan_setup(in);
    FakeSyscalls fake;
    int err = 0;
    const char* what = nullptr;
    ASSERT_TRUE(apply_setup(ops, err, what, fake));
    auto pivot = std::find(fake.calls.begin(), fake.calls.end(), "pivot_root . .");
    ASSERT_NE(pivot, fake.calls.end());
    EXPECT_EQ(*std::next(pivot), "umount2 . " + std::to_string(MNT_DETACH)) << "the host tree is detached at once";
    for (auto it = pivot; it != fake.calls.end(); ++it) {
        EXPECT_EQ(it->find("/images/"), std::string::npos) << *it;
        EXPECT_EQ(it->find("/data/db"), std::string::npos) << *it;
    }
}

// In a user namespace the kernel makes no device nodes: each is an empty file with the host's node
// bound onto it, before /dev turns read-only.
TEST(SetupPlan, UserNamespaceBindsTheHostsDeviceNodes) {
    auto in = input();
    in.userns = true;
    auto ops = plan_setup(in);
    EXPECT_EQ(index_of(ops, [](const SetupOp& o) { return o.kind == Kind::Mknod && S_ISCHR(o.mode); }), -1);
    auto file = index_of(ops, [](const SetupOp& o) {
        return o.kind == Kind::Mknod && o.target == "/tmp/root/dev/null" && S_ISREG(o.mode);
    });
    auto bind = index_of(ops, [](const SetupOp& o) {
        return o.kind == Kind::Mount && o.source == "/dev/null" && o.target == "/tmp/root/dev/null";
    });
    auto dev_ro = index_of(ops, [](const SetupOp& o) { return o.target == "/tmp/root/dev" && (o.flags & MS_RDONLY); });
    ASSERT_GE(file, 0);
    EXPECT_LT(file, bind);
    EXPECT_EQ(ops[bind].flags, static_cast<unsigned long>(MS_BIND));
    EXPECT_LT(bind, dev_ro);
}
