// Every driver against its real engine, through the driver contract alone: the same spec, the same
// checks. A driver whose engine this host lacks is skipped with the probe's reason, never passed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "drivers/driver.h"
#include "drivers/skeleton/skeleton_driver.h"
#include "tests/integration/leftovers.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kRootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";

// The harness's drivers and the template one (drivers/skeleton/), which a new driver starts from.
const DriverRegistry& drivers() {
    static const DriverRegistry r = [] {
        auto r = builtin_drivers();
        r.add("skeleton", "the template driver", {},
              [](const std::string&) { return skeleton::make_skeleton_driver(); });
        return r;
    }();
    return r;
}

class DriverTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        auto param = GetParam();
        auto colon = param.find('_');  // "docker_crun": the docker driver with runtime crun
        driver_ = colon == std::string::npos ? drivers().make(param)
                                             : drivers().make(param.substr(0, colon), param.substr(colon + 1));
        ASSERT_TRUE(driver_) << "no driver " << GetParam();
        auto probe = driver_->probe();
        if (!probe.available) GTEST_SKIP() << "skipped: " << GetParam() << ": " << probe.reason;
        // After prepare: what an engine sets up once for all its containers (podman's storage
        // mount on first use, an imported image) is not a test's leftover.
        auto prep = driver_->prepare(spec("prepare"));
        ASSERT_TRUE(prep) << prep.error().message();
        before_ = hostcheck::snapshot();
    }
    void TearDown() override {
        if (IsSkipped() || HasFatalFailure()) return;
        driver_.reset();
        EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "") << "left behind on the host";
    }
    ContainerSpec spec(const std::string& tag) {
        ContainerSpec s;
        s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-" + tag;
        s.rootfs = kRootfs;
        return s;
    }
    // All five phases; each must succeed and take a positive time.
    ExecResult run(const ContainerSpec& s, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout = 60s) {
        using Clock = std::chrono::steady_clock;
        auto t0 = Clock::now();
        auto c = driver_->create(s);
        EXPECT_TRUE(c) << (c ? "" : c.error().message());
        if (!c) return {};
        auto tc = Clock::now();
        EXPECT_TRUE((*c)->start());
        auto ts = Clock::now();
        auto r = (*c)->exec(argv, timeout);
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        auto te = Clock::now();
        auto st = (*c)->stop();
        EXPECT_TRUE(st) << (st ? "" : st.error().message());
        auto tx = Clock::now();
        auto cl = (*c)->clean();
        EXPECT_TRUE(cl) << (cl ? "" : cl.error().message());
        auto td = Clock::now();
        for (auto [a, b] : {std::pair{t0, tc}, {tc, ts}, {ts, te}, {te, tx}, {tx, td}}) EXPECT_GT(b - a, 0ns);
        return r ? *r : ExecResult{};
    }
    std::unique_ptr<Driver> driver_;
    hostcheck::HostSnapshot before_;
};

}  // namespace

TEST_P(DriverTest, BootEchoesHelloWorld) {
    auto r = run(spec("boot"), {"/bin/echo", "Hello World"});
    EXPECT_TRUE(r.ok()) << r.describe() << ": " << r.err;
    EXPECT_EQ(r.out, "Hello World\n");
}

TEST_P(DriverTest, FailingCommandsExitCodeAndStderrComeBack) {
    auto r = run(spec("fail"), {"/bin/sh", "-c", "echo bad >&2; exit 42"});
    EXPECT_EQ(r.exit_code, 42);
    EXPECT_NE(r.err.find("bad"), std::string::npos);
}

TEST_P(DriverTest, MemoryLimitKillsAnOverAllocatingProcess) {
    auto s = spec("oom");
    s.limits.memory_bytes = 48ULL << 20;
    // gVisor may stall the allocation instead of killing it: a timeout also shows the limit held.
    auto r = run(s, {"/usr/bin/ctrbench-agent", "memhog", "512"}, 10s);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.out.find("allocated 512"), std::string::npos) << "the limit did not hold";
    // gVisor and VMs account memory inside their own kernel: the host's OOM counter does not move.
    if (driver_->capabilities().host_sees_oom) {
        EXPECT_TRUE(r.oom_killed) << r.describe();
    }
}

TEST_P(DriverTest, ContainerIsIsolatedFromTheHost) {
    auto s = spec("iso");
    auto r =
        run(s, {"/bin/sh", "-c",
                "hostname; test -e /work && echo SEES_WORK; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '"});
    EXPECT_TRUE(r.ok()) << r.err;
    EXPECT_EQ(r.out, s.name + "\nlo\n");
}

TEST_P(DriverTest, MissingFirstProcessFailsWithAClearErrorAndLeavesNothing) {
    auto s = spec("nope");
    s.init = {"/bin/no-such-init"};
    auto c = driver_->create(s);
    Status started = c ? (*c)->start() : Status{};
    bool failed = !c || !started;
    EXPECT_TRUE(failed) << "a container whose first process does not exist must not start";
    std::string msg = !c ? c.error().message() : !started ? started.error().message() : "";
    EXPECT_NE(msg.find("no-such-init"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
    // Whatever create made (a runsc sandbox, a bundle, a daemon's container) goes with the handle;
    // TearDown checks nothing is left.
}

TEST_P(DriverTest, FullImageHasItsTools) {
    const fs::path full = fs::path(CTRBENCH_IMAGES_DIR) / "full" / "rootfs";
    if (!fs::exists(full / "usr/bin/sqlite3"))
        GTEST_SKIP() << "skipped: the full image is not built (cmake --build build --target image-full)";
    auto s = spec("full");
    s.image = "full";
    s.rootfs = full;
    ASSERT_TRUE(driver_->prepare(s));
    auto r = run(s, {"/bin/sh", "-c",
                     "sqlite3 --version >/dev/null && lighttpd -v >/dev/null && tar --version >/dev/null && "
                     "command -v ping >/dev/null && grep -q bookworm /etc/os-release && echo tools-ok"});
    EXPECT_TRUE(r.ok()) << r.describe() << ": " << r.err;
    EXPECT_EQ(r.out, "tools-ok\n");
}

INSTANTIATE_TEST_SUITE_P(Engines, DriverTest,
                         ::testing::Values("lean", "crun", "runc", "runsc", "docker", "docker_crun", "docker_runsc",
                                           "podman", "podman_runc", "lxc", "lxd", "kata", "microvm", "containerd",
                                           "containerd_crun", "skeleton"),
                         [](const auto& info) { return info.param; });

// The template as a driver of its own: it says in one line why it cannot run (so every test above
// reports it skipped, as an absent engine), checks a spec before anything else, and a create that
// is not implemented fails with a clear error and leaves nothing behind.
TEST(SkeletonDriver, SaysWhyItCannotRunAndChecksSpecsFirst) {
    auto d = drivers().make("skeleton");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->name(), "skeleton");
    auto p = d->probe();
    EXPECT_FALSE(p.available);
    EXPECT_FALSE(p.reason.empty());
    EXPECT_EQ(p.reason.find('\n'), std::string::npos);
    auto before = hostcheck::snapshot();
    ContainerSpec bad;
    bad.rootfs = kRootfs;  // no name
    auto c = d->create(bad);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("name"), std::string::npos) << c.error().message();
    ContainerSpec good = bad;
    good.name = owned_name("skeleton");
    c = d->create(good);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("not implemented"), std::string::npos) << c.error().message();
    EXPECT_EQ(hostcheck::leftovers_after(before, 1000), "");
}

// A payload's thread makes its launcher its tracer (PTRACE_TRACEME) and the process exits, as an
// exec'd command and as the first process (issue 13): the traced thread stays a zombie until its
// tracer reaps it. The run must end, and leave nothing (TearDown checks), whichever launcher (the
// harness, a runtime, a shim) the engine makes the tracer.
TEST_P(DriverTest, ATracedThreadNeverWedgesTheRun) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run(spec("traceme"), {"/usr/bin/ctrbench-agent", "traceme-thread"}, 15s);
    EXPECT_FALSE(r.timed_out) << "the traced thread held the exec";
    EXPECT_NE(r.out.find("traceme"), std::string::npos) << r.describe() << ": " << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
}

TEST_P(DriverTest, ATracedThreadInTheFirstProcessNeverWedgesTheRun) {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = spec("traceinit");
    s.init = {"/usr/bin/ctrbench-agent", "traceme-thread"};  // it exits at once: start may fail or not
    auto c = driver_->create(s);
    ASSERT_TRUE(c) << c.error().message();
    (void)(*c)->start();
    std::this_thread::sleep_for(300ms);
    auto st = (*c)->stop();
    EXPECT_TRUE(st) << st.error().message();
    auto cl = (*c)->clean();
    EXPECT_TRUE(cl) << cl.error().message();
    c->reset();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
}
