// The I/O workloads on real drivers, checking the work was done (rows, files) and that failures
// inside the container become clear errors.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "drivers/driver.h"
#include "tests/integration/leftovers.h"
#include "workloads/io.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kRootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";

struct Case {
    std::string driver, workload, param;
    long long expect;  // the figure the agent must report (-1: at least one)
};

class WorkloadTest : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override {
        driver_ = builtin_drivers().make(GetParam().driver);
        auto probe = driver_->probe();
        if (!probe.available) GTEST_SKIP() << "skipped: " << probe.reason;
        workloads_ = builtin_workloads();
        before_ = hostcheck::snapshot();
    }
    void TearDown() override {
        if (IsSkipped()) return;
        driver_.reset();
        EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "");
    }
    // Runs the workload's command for `param` in a container of the driver; `command` overrides it.
    Result<ExecResult> exec(const Workload& w, const std::string& param, std::vector<std::string> command = {}) {
        ContainerSpec s;
        s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-io";
        s.rootfs = kRootfs;
        auto mounts = w.data(param, CTRBENCH_DATA_DIR, {});
        if (!mounts) return fail(std::move(mounts.error()));
        s.mounts = *mounts;
        if (auto p = driver_->prepare(s); !p) return fail(std::move(p.error()));
        auto c = driver_->create(s);
        if (!c) return fail(std::move(c.error()));
        if (auto st = (*c)->start(); !st) return fail(std::move(st.error()));
        auto r = (*c)->exec(command.empty() ? w.command(param) : command, 120s);
        (void)(*c)->stop();
        (void)(*c)->clean();
        return r;
    }
    std::unique_ptr<Driver> driver_;
    WorkloadRegistry workloads_;
    hostcheck::HostSnapshot before_;
};

}  // namespace

TEST_P(WorkloadTest, TheWorkIsDone) {
    const auto& c = GetParam();
    const Workload* w = workloads_.find(c.workload);
    ASSERT_TRUE(w);
    auto r = exec(*w, c.param);
    ASSERT_TRUE(r) << r.error().message();
    auto out = w->check(*r, c.param);
    ASSERT_TRUE(out) << out.error().message() << " / " << r->err;
    if (c.expect >= 0) EXPECT_EQ(out->value, c.expect) << r->out;
    else EXPECT_GT(out->value, 0) << r->out;
}

TEST_P(WorkloadTest, AMissingInputIsAClearError) {
    const auto& c = GetParam();
    const Workload* w = workloads_.find(c.workload);
    auto cmd = w->command(c.param);
    for (auto& arg : cmd)
        if (arg.starts_with("/data")) arg = "/data/missing";
    auto r = exec(*w, c.param, cmd);
    ASSERT_TRUE(r) << r.error().message();
    auto out = w->check(*r, c.param);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("/data/missing"), std::string::npos) << out.error().message();
    EXPECT_EQ(out.error().message().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Io, WorkloadTest,
    ::testing::Values(Case{"lean", "sqlite-read", "151.6kB", -1}, Case{"lean", "sqlite-write", "151.6kB", -1},
                      Case{"lean", "files-read", "100", 100}, Case{"lean", "tar-extract", "100", 100},
                      Case{"docker", "sqlite-read", "151.6kB", -1}, Case{"docker", "sqlite-write", "151.6kB", -1},
                      Case{"docker", "files-read", "100", 100}, Case{"docker", "tar-extract", "100", 100},
                      Case{"crun", "tar-extract", "100", 100}, Case{"podman", "sqlite-read", "151.6kB", -1}),
    [](const auto& info) {
        std::string n = info.param.driver + "_" + info.param.workload;
        for (auto& ch : n)
            if (ch == '-') ch = '_';
        return n;
    });
