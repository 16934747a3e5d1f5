// Cgroup discovery and limit files against a fake /proc and cgroupfs in a temp directory.
#include "drivers/lean/cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "drivers/common/cgroupfs.h"
#include "drivers/lean/cgroup_dirs.h"

using namespace ctrbench;
using namespace ctrbench::lean;
namespace fs = std::filesystem;

namespace {

struct FakeHost {
    fs::path dir;
    FakeHost() {
        dir = fs::temp_directory_path() / ("ctrbench-unit-cg-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~FakeHost() { fs::remove_all(dir); }
    void write(const fs::path& rel, const std::string& text) {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
    std::string read(const fs::path& rel) {
        std::ifstream in(dir / rel);
        std::string s;
        std::getline(in, s);
        return s;
    }
};

// This project's hosts: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified.
const char* kHybridMountinfo =
    "30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
    "33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    "35 30 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:9 - cgroup cgroup rw,pids\n";
const char* kHybridSelf = "4:memory:/process_api/abc\n3:pids:/\n2:cpu,cpuacct:/user.slice\n0::/user.slice\n";

}  // namespace

TEST(CgroupDiscovery, HybridHostUsesV1UnderOwnCgroup) {
    FakeHost h;
    h.write("mountinfo", kHybridMountinfo);
    h.write("cgroup", kHybridSelf);
    auto l = discover_cgroups(h.dir / "mountinfo", h.dir / "cgroup");
    ASSERT_TRUE(l) << l.error().message();
    EXPECT_EQ(l->version, CgroupVersion::V1);
    ASSERT_EQ(l->bases.size(), 3u);
    EXPECT_EQ(l->bases[0], "/sys/fs/cgroup/cpu,cpuacct/user.slice");
    EXPECT_EQ(l->bases[1], "/sys/fs/cgroup/memory/process_api/abc");
    EXPECT_EQ(l->bases[2], "/sys/fs/cgroup/pids");
}

TEST(CgroupDiscovery, PureV2) {
    FakeHost h;
    auto root = h.dir / "cg2";
    h.write("cg2/cgroup.controllers", "cpuset cpu io memory pids\n");
    h.write("mountinfo", "31 24 0:27 / " + root.string() + " rw,nosuid - cgroup2 cgroup2 rw\n");
    h.write("cgroup", "0::/ci/job\n");
    auto l = discover_cgroups(h.dir / "mountinfo", h.dir / "cgroup");
    ASSERT_TRUE(l) << l.error().message();
    EXPECT_EQ(l->version, CgroupVersion::V2);
    EXPECT_EQ(l->bases.at(0), root / "ci/job");
}

TEST(CgroupDiscovery, V2WithoutMemoryControllerIsAnError) {
    FakeHost h;
    auto root = h.dir / "cg2";
    h.write("cg2/cgroup.controllers", "cpu pids\n");
    h.write("mountinfo", "31 24 0:27 / " + root.string() + " rw - cgroup2 cgroup2 rw\n");
    h.write("cgroup", "0::/\n");
    auto l = discover_cgroups(h.dir / "mountinfo", h.dir / "cgroup");
    ASSERT_FALSE(l);
    EXPECT_NE(l.error().message().find("lacks the memory controller"), std::string::npos);
}

TEST(CgroupDiscovery, NoCgroupsAtAll) {
    FakeHost h;
    h.write("mountinfo", "22 1 0:5 / /proc rw - proc proc rw\n");
    h.write("cgroup", "");
    EXPECT_FALSE(discover_cgroups(h.dir / "mountinfo", h.dir / "cgroup"));
}

TEST(CgroupLimits, V1Files) {
    FakeHost h;
    for (const char* c : {"cpu", "memory", "pids"}) h.write(std::string(c) + "/cgroup.procs", "");
    for (const char* f :
         {"cpu/cpu.cfs_period_us", "cpu/cpu.cfs_quota_us", "memory/memory.limit_in_bytes", "pids/pids.max"})
        h.write(f, "");
    h.write("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    auto cg = make_cgroup_v1({h.dir / "cpu", h.dir / "memory", h.dir / "pids"});
    ASSERT_TRUE(cg->open());
    Limits l;
    l.cpus = 1.5;
    l.memory_bytes = 64ULL << 20;
    l.pids = 32;
    ASSERT_TRUE(cg->apply(l));
    EXPECT_EQ(h.read("cpu/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(h.read("cpu/cpu.cfs_quota_us"), "150000");
    EXPECT_EQ(h.read("memory/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(h.read("pids/pids.max"), "32");
    EXPECT_EQ(*cg->oom_kills(), 4u);
    l = Limits{0, 0, 0};
    ASSERT_TRUE(cg->apply(l));
    EXPECT_EQ(h.read("cpu/cpu.cfs_quota_us"), "-1");
    EXPECT_EQ(h.read("pids/pids.max"), "max");
}

TEST(CgroupLimits, V2Files) {
    FakeHost h;
    for (const char* f : {"c/cgroup.procs", "c/cpu.max", "c/memory.max", "c/memory.swap.max", "c/pids.max"})
        h.write(f, "");
    h.write("c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    auto cg = make_cgroup_v2(h.dir / "c");
    ASSERT_TRUE(cg->open());
    Limits l;  // the defaults: 1 CPU, 1 GiB, 1024 pids
    ASSERT_TRUE(cg->apply(l));
    EXPECT_EQ(h.read("c/cpu.max"), "100000 100000");
    EXPECT_EQ(h.read("c/memory.max"), "1073741824");
    EXPECT_EQ(h.read("c/memory.swap.max"), "0");
    EXPECT_EQ(h.read("c/pids.max"), "1024");
    EXPECT_EQ(*cg->oom_kills(), 1u);
}

TEST(CgroupLimits, MissingFileNamesThePath) {
    FakeHost h;
    h.write("c/cgroup.procs", "");
    auto cg = make_cgroup_v2(h.dir / "c");
    ASSERT_TRUE(cg->open());
    auto s = cg->apply(Limits{});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("cpu.max"), std::string::npos);
}
