#include "drivers/lean/setup_plan.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>

using namespace ctrbench::lean;
using Kind = SetupOp::Kind;

namespace {

PlanInput input() {
    PlanInput in;
    in.rootfs_ref = "/images/minimal/rootfs";
    in.stage = "/tmp";
    in.hostname = "box";
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
