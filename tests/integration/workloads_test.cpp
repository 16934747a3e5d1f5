// The I/O workloads on real drivers, checking the work was done (rows, files) and that failures
// inside the container become clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <ostream>

#include "drivers/common/layer.h"
#include "drivers/driver.h"
#include "tests/integration/leftovers.h"
#include "workloads/io.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kRootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";

// The datasets are deterministic (datasets/datasets.cpp, fixed seed): the rows of every table of the
// TPC-C databases, which sqlite-read must read and sqlite-write must write, are known exactly.
constexpr long long kRows151kB = 602, kRows111MB = 806206;

struct Case {
    std::string driver, workload, param;
    long long expect;  // the figure the agent must report (-1: at least one)
};

// Readable and stable in test names and failures (gtest would print the bytes of the struct).
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.driver << " " << c.workload << " " << c.param;
}

// A test name from its parts: "lean_tar_extract_100000" (gtest takes letters, digits and '_').
std::string test_name(std::string n) {
    for (auto& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

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
    if (c.expect >= 0)
        EXPECT_EQ(out->value, c.expect) << r->out;
    else
        EXPECT_GT(out->value, 0) << r->out;
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
    ::testing::Values(Case{"lean", "sqlite-read", "151.6kB", kRows151kB},
                      Case{"lean", "sqlite-write", "151.6kB", kRows151kB}, Case{"lean", "files-read", "100", 100},
                      Case{"lean", "tar-extract", "100", 100}, Case{"docker", "sqlite-read", "151.6kB", kRows151kB},
                      Case{"docker", "sqlite-write", "151.6kB", kRows151kB}, Case{"docker", "files-read", "100", 100},
                      Case{"docker", "tar-extract", "100", 100}, Case{"crun", "tar-extract", "100", 100},
                      Case{"podman", "sqlite-read", "151.6kB", kRows151kB},
                      Case{"lxc", "sqlite-write", "151.6kB", kRows151kB}, Case{"lxc", "tar-extract", "100", 100},
                      Case{"lxd", "sqlite-read", "151.6kB", kRows151kB}, Case{"lxd", "files-read", "100", 100},
                      Case{"containerd", "sqlite-write", "151.6kB", kRows151kB},
                      Case{"containerd", "tar-extract", "100", 100}),
    [](const auto& info) { return test_name(info.param.driver + "_" + info.param.workload); });

// The thesis's largest parameters, once each, on the drivers that build their own writable layer:
// it is on disk like docker's and podman's (a 256 MiB tmpfs held neither 100000 files of 4 KiB nor
// a copy of the 111.6 MB database and its duplicated tables).
INSTANTIATE_TEST_SUITE_P(
    Largest, WorkloadTest,
    ::testing::Values(Case{"lean", "sqlite-read", "111.6MB", kRows111MB},
                      Case{"lean", "sqlite-write", "111.6MB", kRows111MB}, Case{"lean", "files-read", "100000", 100000},
                      Case{"lean", "tar-extract", "100000", 100000}, Case{"crun", "sqlite-read", "111.6MB", kRows111MB},
                      Case{"crun", "sqlite-write", "111.6MB", kRows111MB}, Case{"crun", "files-read", "100000", 100000},
                      Case{"crun", "tar-extract", "100000", 100000}),
    [](const auto& info) { return test_name(info.param.driver + "_" + info.param.workload + "_" + info.param.param); });

// tmpfs stays a named choice: the upper layer in RAM, bounded by Limits::writable_bytes, and what
// does not fit is a clear error, not a crash.
TEST(WritableLayer, OnDiskByDefaultAndInRamWhenAskedFor) {
    for (const char* driver : {"lean", "crun"}) {
        for (const std::string storage : {"overlay", "tmpfs"}) {
            auto d = builtin_drivers().make(driver);
            ASSERT_TRUE(d->use_storage(storage));
            auto probe = d->probe();
            if (!probe.available) GTEST_SKIP() << "skipped: " << driver << ": " << probe.reason;
            EXPECT_EQ(probe.storage, storage);
            auto before = hostcheck::snapshot();
            ContainerSpec s;
            s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-layer";
            s.rootfs = kRootfs;
            s.limits.writable_bytes = 8ULL << 20;
            {
                auto c = d->create(s);
                ASSERT_TRUE(c) << c.error().message();
                ASSERT_TRUE((*c)->start());
                const fs::path upper = layer_dir(driver, s.name) / "upper";
                // 16 MiB: more than the 8 MiB tmpfs holds, nothing for the disk.
                auto r =
                    (*c)->exec({"/bin/sh", "-c", "dd if=/dev/zero of=/big bs=1M count=16 2>&1 && echo written"}, 60s);
                ASSERT_TRUE(r) << r.error().message();
                if (storage == "overlay") {
                    EXPECT_TRUE(r->ok()) << r->describe() << ": " << r->out;
                    EXPECT_EQ(fs::file_size(upper / "big"), 16u << 20) << "the file lands in the layer on disk";
                } else {
                    EXPECT_FALSE(r->ok()) << "16 MiB fit in an 8 MiB tmpfs layer";
                    EXPECT_NE(r->out.find("No space left on device"), std::string::npos) << r->out;
                    EXPECT_FALSE(fs::exists(upper)) << "a tmpfs layer has nothing on disk";
                }
                EXPECT_TRUE((*c)->stop());
                EXPECT_TRUE((*c)->clean());
                EXPECT_FALSE(fs::exists(layer_dir(driver, s.name))) << "clean removes the layer";
            }
            d.reset();
            EXPECT_EQ(hostcheck::leftovers_after(before, 5000), "") << driver << " " << storage;
        }
    }
}

TEST(WritableLayer, AnUnknownStorageIsAClearError) {
    auto d = builtin_drivers().make("lean");
    auto s = d->use_storage("zfs");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("overlay"), std::string::npos) << s.error().message();
    EXPECT_NE(s.error().message().find("tmpfs"), std::string::npos) << s.error().message();
}
