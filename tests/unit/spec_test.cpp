#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "drivers/common/managed_engine.h"
#include "drivers/driver.h"

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {
ContainerSpec good() {
    ContainerSpec s;
    s.name = "ctrbench-1-0";
    return s;
}
std::string why(const ContainerSpec& s) {
    auto r = validate(s);
    return r ? "" : r.error().message();
}
}  // namespace

TEST(Spec, DefaultsAreValidAndBounded) {
    auto s = good();
    EXPECT_EQ(why(s), "");
    EXPECT_EQ(s.limits.cpus, 1.0);
    EXPECT_EQ(s.limits.memory_bytes, 1ULL << 30);
    EXPECT_GT(s.limits.pids, 0);
    EXPECT_EQ(s.network, NetworkMode::None);
    EXPECT_FALSE(s.init.empty());
}

TEST(Spec, RejectsBadInput) {
    auto s = good();
    s.name = "";
    EXPECT_NE(why(s).find("name is empty"), std::string::npos);
    s = good();
    s.name = "a/b";
    EXPECT_NE(why(s).find("may only hold"), std::string::npos);
    s = good();
    s.limits.memory_bytes = 1024;
    EXPECT_NE(why(s).find("memory limit"), std::string::npos);
    s = good();
    s.limits.pids = -1;
    EXPECT_NE(why(s).find("pids"), std::string::npos);
    s = good();
    s.workdir = "tmp";
    EXPECT_NE(why(s).find("absolute"), std::string::npos);
    s = good();
    s.mounts.push_back({"/tmp", "data", true});
    EXPECT_NE(why(s).find("not absolute"), std::string::npos);
    s = good();
    s.timeout = std::chrono::milliseconds(0);
    EXPECT_NE(why(s).find("timeout"), std::string::npos);
}

TEST(Spec, ExecResultDescribes) {
    ExecResult r;
    r.exit_code = 3;
    EXPECT_EQ(r.describe(), "exit 3");
    r.signal = 9;
    r.oom_killed = true;
    EXPECT_EQ(r.describe(), "killed by signal 9 (out of memory)");
    r = {};
    r.timed_out = true;
    EXPECT_FALSE(r.ok());
}

// The naming scheme every driver's sweep relies on (drivers/driver.h).
TEST(Naming, OwnedNamesCarryTheirOwnersPid) {
    auto mine = owned_name("7");
    EXPECT_EQ(mine, "ctrbench-" + std::to_string(::getpid()) + "-7");
    EXPECT_EQ(owner_pid(mine), ::getpid());
    EXPECT_EQ(owner_pid("ctrbench-test-4242-net"), 4242);
    EXPECT_EQ(owner_pid("ctrbench-31"), 31);  // a cgroup pool root
    EXPECT_EQ(owner_pid("ctrbench-bench"), 0);
    EXPECT_EQ(owner_pid("other-12-3"), 0);
    EXPECT_FALSE(owner_gone(mine)) << "this process runs";
    EXPECT_FALSE(owner_gone("ctrbench-bench")) << "no owner: never swept";
    EXPECT_TRUE(owner_gone("ctrbench-" + std::to_string(1 << 22 | 12345) + "-0")) << "beyond pid_max: gone";
}

namespace {
// A checkout's images directory under `root` with `image` built, its checksum `sha`: the spec of it.
ContainerSpec checkout_image(const fs::path& root, const std::string& image, const std::string& sha) {
    fs::create_directories(root / "images" / image / "rootfs");
    std::ofstream(root / "images" / image / (image + ".sha256")) << sha << "  " << image << ".tar\n";
    ContainerSpec s;
    s.image = image;
    s.rootfs = root / "images" / image / "rootfs";
    return s;
}
}  // namespace

// An image's earlier build is dropped only when no checkout of ctrbench still has it as its image:
// two clones on one host, each with its own images directory, share the engines.
TEST(Naming, AnEarlierBuildAnotherCheckoutStillUsesIsKept) {
    const fs::path tmp = fs::temp_directory_path() / ("ctrbench-builds-" + std::to_string(::getpid()));
    fs::remove_all(tmp);
    auto checkout = [&](const std::string& dir, const std::string& sha) {
        return checkout_image(tmp / dir, "full", sha);
    };
    const fs::path records = tmp / "records";
    const auto a = checkout("a", "aaaaaaaaaaaaaaaa0123");
    const auto b = checkout("b", "bbbbbbbbbbbbbbbb0123");
    record_build("containerd", "ctrbench-image-full-aaaaaaaaaaaaaaaa", a, records);
    record_build("containerd", "ctrbench-image-full-bbbbbbbbbbbbbbbb", b, records);
    EXPECT_TRUE(build_in_use("containerd", "ctrbench-image-full-aaaaaaaaaaaaaaaa", records));
    EXPECT_TRUE(build_in_use("containerd", "ctrbench-image-full-bbbbbbbbbbbbbbbb", records));
    EXPECT_FALSE(build_in_use("lxd", "ctrbench-image-full-aaaaaaaaaaaaaaaa", records)) << "another engine's record";
    EXPECT_FALSE(build_in_use("containerd", "ctrbench-image-full-cccccccccccccccc", records)) << "no record: nobody's";
    // Checkout a rebuilds its image: its earlier build is nobody's any more; b's is still b's.
    (void)checkout("a", "dddddddddddddddd0123");
    EXPECT_FALSE(build_in_use("containerd", "ctrbench-image-full-aaaaaaaaaaaaaaaa", records));
    EXPECT_TRUE(build_in_use("containerd", "ctrbench-image-full-bbbbbbbbbbbbbbbb", records));
    // Checkout b removed: its build is nobody's.
    fs::remove_all(tmp / "b");
    EXPECT_FALSE(build_in_use("containerd", "ctrbench-image-full-bbbbbbbbbbbbbbbb", records));
    forget_build("containerd", "ctrbench-image-full-bbbbbbbbbbbbbbbb", records);
    EXPECT_FALSE(fs::exists(records / "containerd" / "ctrbench-image-full-bbbbbbbbbbbbbbbb"));
    fs::remove_all(tmp);
}

// Docker and podman keep images by tag: after an import, the image's other tags that no checkout uses
// are dropped; the current one, another checkout's, and other images' tags are not.
TEST(Naming, UnusedBuildsAreTheImagesOtherTagsNobodyUses) {
    const fs::path tmp = fs::temp_directory_path() / ("ctrbench-tags-" + std::to_string(::getpid()));
    fs::remove_all(tmp);
    auto checkout = [&](const std::string& dir, const std::string& sha) {
        return checkout_image(tmp / dir, "service", sha);
    };
    const fs::path records = tmp / "records";
    const auto mine = checkout("a", "aaaaaaaaaaaaaaaa0123");
    const auto other = checkout("b", "bbbbbbbbbbbbbbbb0123");
    record_build("podman", "ctrbench-service-aaaaaaaaaaaaaaaa", mine, records);
    record_build("podman", "ctrbench-service-bbbbbbbbbbbbbbbb", other, records);
    const std::vector<std::string> tags = {
        "localhost/ctrbench/service:aaaaaaaaaaaaaaaa",  // the current build
        "localhost/ctrbench/service:bbbbbbbbbbbbbbbb",  // checkout b's
        "localhost/ctrbench/service:cccccccccccccccc",  // an earlier build: nobody's
        "localhost/ctrbench/minimal:dddddddddddddddd",  // another image
        "localhost/notctrbench/service:eeeeeeeeeeeeeeee",
    };
    const auto drop = unused_builds("podman", mine, tags, records);
    ASSERT_EQ(drop.size(), 1U);
    EXPECT_EQ(drop[0].tag, "localhost/ctrbench/service:cccccccccccccccc");
    EXPECT_EQ(drop[0].record, "ctrbench-service-cccccccccccccccc");
    // Docker's tags have no registry; once b is gone, its build is dropped too.
    fs::remove_all(tmp / "b");
    const auto docker = unused_builds("podman", mine, {"ctrbench/service:bbbbbbbbbbbbbbbb"}, records);
    ASSERT_EQ(docker.size(), 1U);
    EXPECT_EQ(docker[0].tag, "ctrbench/service:bbbbbbbbbbbbbbbb");
    fs::remove_all(tmp);
}
