// The isolation workload on the real engines: every probe reports on every driver, and what any
// container must not reach (the host's files, processes, loopback, abstract sockets, disk, the
// limits) is blocked everywhere. The lean runtime blocks every probe docker with runc blocks, and its
// seccomp filter is what blocks the keyrings.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "drivers/driver.h"
#include "tests/integration/leftovers.h"
#include "workloads/isolation.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Verdicts = std::map<std::string, ProbeResult::Verdict>;

// The probes' verdicts in one container of `driver` (seccomp off when `unconfined`), or why not.
Result<Verdicts> run_probes(const std::string& driver, bool unconfined = false, bool userns = false) {
    auto d = builtin_drivers().make(driver);
    if (auto p = d->probe(); !p.available) return fail_msg("skipped: " + p.reason);
    IsolationWorkload w;
    ContainerSpec s;
    s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-iso";
    s.rootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";
    s.seccomp = !unconfined;
    s.userns = userns;
    auto mounts = w.data("", fs::path(CTRBENCH_DATA_DIR), {});
    if (!mounts) return fail(std::move(mounts.error()));
    if (auto p = d->prepare(s); !p) return fail(std::move(p.error()));
    auto out = w.measure(*d, s, "");
    if (!out) return fail(std::move(out.error()));
    Verdicts v;
    for (const auto& p : out->probes) v[p.name] = p.verdict;
    return v;
}

class IsolationWorkloadTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        before_ = hostcheck::snapshot();
    }
    void TearDown() override {
        if (!IsSkipped()) {
            EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "");
        }
    }
    hostcheck::HostSnapshot before_;
};

}  // namespace

TEST_P(IsolationWorkloadTest, NothingOfTheHostIsReachable) {
    auto v = run_probes(GetParam());
    if (!v && v.error().message().starts_with("skipped: ")) {
        GTEST_SKIP() << v.error().message();
    }
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(v->size(), IsolationWorkload::probes().size());
    for (const char* p :
         {"files/host-path",      "files/dotdot",           "files/symlink",         "files/proc1-root",
          "files/inherited-fds",  "processes/host-pid",     "processes/signal-host", "processes/ptrace-host",
          "devices/mknod-disk",   "devices/mknod-mem",      "devices/dev-kmsg",      "kernel/sysrq-trigger",
          "kernel/module",        "kernel/kcore",           "network/host-loopback", "network/abstract-unix",
          "resources/memory",     "resources/memory-wedge", "resources/cpu",         "privilege/bounding-set",
          "privilege/inheritable"})
        EXPECT_EQ(v->at(p), ProbeResult::Verdict::Blocked) << GetParam() << ": " << p;
    EXPECT_EQ(v->at("resources/disk"), ProbeResult::Verdict::Untried) << "never tried, never blocked";
}

INSTANTIATE_TEST_SUITE_P(Drivers, IsolationWorkloadTest,
                         ::testing::Values("lean", "crun", "runc", "runsc", "docker", "podman", "lxc", "lxd",
                                           "containerd"),
                         [](const auto& info) { return info.param; });

// Lean lets through only what is by design (a thread tracing inside, io_uring as Docker's profile
// allows it, root without a user namespace), and blocks every probe docker with runc blocks.
TEST(LeanIsolation, BlocksAllButTheByDesignAndEverythingDockerBlocks) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto lean = run_probes("lean");
    ASSERT_TRUE(lean) << lean.error().message();
    std::set<std::string> through;
    for (const auto& [p, verdict] : *lean)
        if (verdict != ProbeResult::Verdict::Blocked) through.insert(p);
    EXPECT_EQ(through, (std::set<std::string>{"processes/traceme-thread", "kernel/io-uring", "privilege/host-root",
                                              "resources/disk"}));
    auto docker = run_probes("docker");
    if (!docker) {
        GTEST_SKIP() << "docker: " << docker.error().message();
    }
    for (const auto& [p, verdict] : *docker)
        if (verdict == ProbeResult::Verdict::Blocked) {
            EXPECT_EQ(lean->at(p), ProbeResult::Verdict::Blocked) << p << ": docker blocks it, lean does not";
        }
}

// Without the filter the keyrings and the namespace-making calls are open again: the filter, not
// the capabilities, is what closes them.
TEST(LeanIsolation, TheSeccompFilterIsWhatBlocksKeyringsAndUserNamespaces) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto v = run_probes("lean", /*unconfined=*/true);
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(v->at("privilege/seccomp"), ProbeResult::Verdict::Allowed);
    EXPECT_EQ(v->at("kernel/keyctl"), ProbeResult::Verdict::Allowed);
    EXPECT_EQ(v->at("mounts/userns-mount"), ProbeResult::Verdict::Allowed);
    EXPECT_EQ(v->at("network/vsock"), ProbeResult::Verdict::Allowed);
    // The rest of the walls stand without it.
    EXPECT_EQ(v->at("files/host-path"), ProbeResult::Verdict::Blocked);
    EXPECT_EQ(v->at("mounts/mount-tmpfs"), ProbeResult::Verdict::Blocked);
    EXPECT_EQ(v->at("privilege/no-new-privs"), ProbeResult::Verdict::Blocked);
}

// --userns: root inside is no longer the host's root; everything else lean blocks stays blocked.
TEST(LeanIsolation, WithAUserNamespaceRootIsNoLongerTheHostsRoot) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto v = run_probes("lean", false, /*userns=*/true);
    ASSERT_TRUE(v) << v.error().message();
    std::set<std::string> through;
    for (const auto& [p, verdict] : *v)
        if (verdict != ProbeResult::Verdict::Blocked) through.insert(p);
    EXPECT_EQ(through, (std::set<std::string>{"processes/traceme-thread", "kernel/io-uring", "resources/disk"}));
}
