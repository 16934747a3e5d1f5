// What a user sees when an engine is missing, its daemon down, a runtime unregistered or an image
// absent: one clear line, from the probe or from the failing call, never a crash or a fake pass.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/process.h"
#include "drivers/common/managed_engine.h"
#include "drivers/containerd/containerd_driver.h"
#include "drivers/docker/docker_driver.h"
#include "drivers/kata/kata_driver.h"
#include "drivers/lxc/lxc_driver.h"
#include "drivers/lxd/lxd_driver.h"
#include "drivers/microvm/microvm_driver.h"
#include "drivers/oci/oci_driver.h"
#include "drivers/podman/podman_driver.h"
#include "tests/integration/leftovers.h"

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {
bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos;
}
ContainerSpec spec(const fs::path& rootfs) {
    ContainerSpec s;
    s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-fault";
    s.rootfs = rootfs;
    return s;
}
}  // namespace

TEST(DriverFaults, RuntimeNotInstalled) {
    oci::OciDriver d("no-such-runtime");
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("not installed"), std::string::npos) << p.reason;
    EXPECT_TRUE(one_line(p.reason));
}

TEST(DriverFaults, DockerDaemonNotRunning) {
    docker::DockerDriver d("runc", "/nonexistent/docker.sock");
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("dockerd is not running: no socket at /nonexistent/docker.sock"), std::string::npos)
        << p.reason;
}

TEST(DriverFaults, DockerSocketThatNobodyAnswers) {
    auto sock = fs::temp_directory_path() / ("ctrbench-dead-" + std::to_string(::getpid()) + ".sock");
    std::ofstream(sock) << "";  // a file where a socket should be: connect fails
    docker::DockerDriver d("runc", sock.string());
    auto p = d.probe();
    fs::remove(sock);
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("cannot connect to " + sock.string()), std::string::npos) << p.reason;
    EXPECT_TRUE(one_line(p.reason));
}

TEST(DriverFaults, DockerRuntimeNotRegistered) {
    docker::DockerDriver probe_default;
    if (!probe_default.probe().available) GTEST_SKIP() << "skipped: docker is not available here";
    docker::DockerDriver d("no-such-runtime");
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("runtime no-such-runtime is not registered in Docker"), std::string::npos) << p.reason;
}

// An image that was never built: prepare() says which checksum file is missing, in one line.
void expect_image_missing_error(Driver& d) {
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: " << d.name() << ": " << p.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-noimage-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs");
    auto s = d.prepare(spec(dir / "rootfs"));
    fs::remove_all(dir);
    ASSERT_FALSE(s) << d.name();
    EXPECT_NE(s.error().message().find("has no checksum"), std::string::npos) << s.error().message();
    EXPECT_TRUE(one_line(s.error().message()));
}

TEST(DriverFaults, ImageMissingDocker) {
    docker::DockerDriver d;
    expect_image_missing_error(d);
}

TEST(DriverFaults, ImageMissingPodman) {
    podman::PodmanDriver d;
    expect_image_missing_error(d);
}

TEST(DriverFaults, DockerImageNotImported) {
    docker::DockerDriver d;
    if (!d.probe().available) GTEST_SKIP() << "skipped: docker is not available here";
    auto dir = fs::temp_directory_path() / ("ctrbench-unimported-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs");
    std::ofstream(dir / "minimal.sha256") << "00000000000000000000000000000000  minimal.tar\n";
    auto before = hostcheck::snapshot();
    auto c = d.create(spec(dir / "rootfs"));  // prepare() skipped: the tag does not exist in Docker
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("No such image"), std::string::npos) << c.error().message();
    EXPECT_EQ(hostcheck::leftovers_after(before), "");
    fs::remove_all(dir);
}

// liblxc is given only images that exist: a missing one is one line from create, nothing made.
// Docker and podman keep images by tag: an import drops the image's earlier builds nobody uses, and
// keeps one another checkout still uses (its record names it) and the current one.
void prepare_drops_earlier_builds(Driver& d, const std::string& engine, const std::string& cli) {
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: " << engine << ": " << p.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-builds-" + engine + "-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs");
    fs::create_directories(dir / "other");
    std::ofstream(dir / "rootfs/file") << "x\n";
    auto s = spec(dir / "rootfs");
    s.image = "ctrbench-test-builds";
    const std::string repo = "ctrbench/" + s.image + ":";
    ASSERT_TRUE(run_checked({"tar", "-cf", (dir / (s.image + ".tar")).string(), "-C", (dir / "rootfs").string(), "."},
                            std::chrono::seconds(30)));
    std::ofstream(dir / (s.image + ".sha256")) << std::string(64, '1') << "  x.tar\n";
    // Another checkout, whose current build is 5555…; 4444… is nobody's.
    std::ofstream(dir / "other" / (s.image + ".sha256")) << std::string(64, '5') << "  x.tar\n";
    auto other = spec(dir / "other" / "rootfs");
    other.image = s.image;
    record_build(engine, "ctrbench-" + s.image + "-" + std::string(16, '5'), other);
    for (char h : {'4', '5'})
        ASSERT_TRUE(run_checked({cli, "import", (dir / (s.image + ".tar")).string(), repo + std::string(16, h)},
                                std::chrono::seconds(60)));
    auto prepared = d.prepare(s);
    auto tags =
        run_process({cli, "images", "--filter", "reference=" + repo.substr(0, repo.size() - 1), "--format", "{{.Tag}}"},
                    std::chrono::seconds(60));
    for (char h : {'1', '4', '5'}) {
        (void)run_process({cli, "rmi", repo + std::string(16, h)}, std::chrono::seconds(60));
        forget_build(engine, "ctrbench-" + s.image + "-" + std::string(16, h));
    }
    fs::remove_all(dir);
    ASSERT_TRUE(prepared) << prepared.error().message();
    ASSERT_TRUE(tags && tags->ok());
    EXPECT_NE(tags->out.find(std::string(16, '1')), std::string::npos) << "the current build: " << tags->out;
    EXPECT_NE(tags->out.find(std::string(16, '5')), std::string::npos) << "another checkout's build: " << tags->out;
    EXPECT_EQ(tags->out.find(std::string(16, '4')), std::string::npos) << "an earlier build nobody uses: " << tags->out;
}

TEST(DriverFaults, DockerPrepareDropsEarlierBuildsNobodyUses) {
    docker::DockerDriver d("runc");
    prepare_drops_earlier_builds(d, "docker", "docker");
}

TEST(DriverFaults, PodmanPrepareDropsEarlierBuildsNobodyUses) {
    podman::PodmanDriver d("runc");
    prepare_drops_earlier_builds(d, "podman", "podman");
}

TEST(DriverFaults, ImageMissingLxc) {
    lxc::LxcDriver d;
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: lxc: " << p.reason;
    auto before = hostcheck::snapshot();
    auto c = d.create(spec("/nonexistent/minimal/rootfs"));
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("rootfs /nonexistent/minimal/rootfs does not exist"), std::string::npos)
        << c.error().message();
    EXPECT_TRUE(one_line(c.error().message()));
    EXPECT_FALSE(fs::exists(fs::path(lxc::kLxcPath) / spec("/").name));
    EXPECT_EQ(hostcheck::leftovers_after(before), "");
}

TEST(DriverFaults, LxdDaemonNotRunning) {
    lxd::LxdDriver d("/nonexistent/lxd/unix.socket");
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("lxd is not running: no socket at /nonexistent/lxd/unix.socket"), std::string::npos)
        << p.reason;
    EXPECT_TRUE(one_line(p.reason));
}

TEST(DriverFaults, LxdSocketThatNobodyAnswers) {
    auto sock = fs::temp_directory_path() / ("ctrbench-dead-lxd-" + std::to_string(::getpid()) + ".sock");
    std::ofstream(sock) << "";
    lxd::LxdDriver d(sock.string());
    auto p = d.probe();
    fs::remove(sock);
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("cannot connect to " + sock.string() + " (is lxd running?"), std::string::npos) << p.reason;
    EXPECT_TRUE(one_line(p.reason));
}

TEST(DriverFaults, LxdPoolMissingAndImageNotImported) {
    lxd::LxdDriver d;
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: lxd: " << p.reason;
    ASSERT_TRUE(d.use_storage("zfs"));  // no zfs in this kernel: the lxd role makes no such pool
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("LXD has no storage pool ctrbench-zfs"), std::string::npos) << p.reason;
    EXPECT_FALSE(d.use_storage("aufs"));
    ASSERT_TRUE(d.use_storage("dir"));
    auto dir = fs::temp_directory_path() / ("ctrbench-unimported-lxd-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs/bin");
    std::ofstream(dir / "rootfs/bin/sleep") << "";
    std::ofstream(dir / "minimal.sha256") << "00000000000000000000000000000000  minimal.tar\n";
    auto before = hostcheck::snapshot();
    auto c = d.create(spec(dir / "rootfs"));  // prepare() skipped: no such image alias in LXD
    fs::remove_all(dir);
    ASSERT_FALSE(c);
    EXPECT_TRUE(one_line(c.error().message())) << c.error().message();
    EXPECT_NE(c.error().message().find("lxd POST /1.0/instances"), std::string::npos) << c.error().message();
    EXPECT_EQ(hostcheck::leftovers_after(before), "");
}

TEST(DriverFaults, ContainerdDaemonNotRunning) {
    containerd::ContainerdDriver d("runc", "/nonexistent/containerd/containerd.sock");
    auto p = d.probe();
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("containerd is not running (no /nonexistent/containerd/containerd.sock"), std::string::npos)
        << p.reason;
    EXPECT_TRUE(one_line(p.reason));
    EXPECT_TRUE(d.sweep_dead().empty());
}

TEST(DriverFaults, ContainerdSocketThatNobodyAnswers) {
    auto sock = fs::temp_directory_path() / ("ctrbench-dead-containerd-" + std::to_string(::getpid()) + ".sock");
    std::ofstream(sock) << "";
    containerd::ContainerdDriver d("runc", sock.string());
    auto p = d.probe();
    fs::remove(sock);
    EXPECT_FALSE(p.available);
    EXPECT_NE(p.reason.find("containerd is not answering on " + sock.string()), std::string::npos) << p.reason;
    EXPECT_TRUE(one_line(p.reason));
}

// An image whose snapshot was never made (prepare skipped): one line from create, and nothing of the
// container left in containerd (no container, no snapshot, no task) or on the host.
TEST(DriverFaults, ContainerdImageNotPrepared) {
    containerd::ContainerdDriver d("runc");
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: containerd: " << p.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-fake-image-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs");
    std::ofstream(dir / "minimal.sha256") << "00000000000000000000000000000000  minimal.tar\n";
    auto before = hostcheck::snapshot();
    auto s = spec(dir / "rootfs");
    auto c = d.create(s);
    fs::remove_all(dir);
    ASSERT_FALSE(c);
    EXPECT_TRUE(one_line(c.error().message())) << c.error().message();
    EXPECT_NE(c.error().message().find("containerd prepare snapshot " + s.name), std::string::npos)
        << c.error().message();
    auto left = run_process({"ctr", "-n", "ctrbench", "containers", "ls", "-q"}, std::chrono::seconds(10));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->out.find(s.name), std::string::npos) << left->out;
    left = run_process({"ctr", "-n", "ctrbench", "snapshots", "ls"}, std::chrono::seconds(10));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->out.find(s.name), std::string::npos) << left->out;
    EXPECT_EQ(hostcheck::leftovers_after(before), "");
}

namespace {
std::vector<std::string> containerd_snapshots() {
    std::vector<std::string> keys;
    auto ls = run_process({"ctr", "-n", "ctrbench", "snapshots", "ls"}, std::chrono::seconds(10));
    if (!ls) return keys;
    std::istringstream in(ls->out);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("ctrbench-")) keys.push_back(line.substr(0, line.find_first_of(" \t")));
    return keys;
}
}  // namespace

// An image's extraction while containerd's garbage collector runs (it runs after every deletion in
// the namespace: here a loop of them, as a matrix's earlier runs cause): the snapshot being written is
// a root from the start, so the image arrives whole (before, it lost files mid-tar: "Hard-link target
// … does not exist", or "snapshot …-extract-<pid> does not exist" at the commit). The image's earlier
// builds go, and nothing of the extraction stays.
TEST(DriverFaults, ContainerdImageExtractionOutlivesTheGarbageCollector) {
    containerd::ContainerdDriver d("runc");
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: containerd: " << p.reason;
    auto ctr = [](std::vector<std::string> args) {
        args.insert(args.begin(), {"ctr", "-n", "ctrbench", "snapshots"});
        return run_process(args, std::chrono::seconds(30));
    };
    const std::string earlier = "ctrbench-image-full-0000000000000000";  // an earlier build of the image
    ASSERT_TRUE(ctr({"prepare", earlier + "-active"}));
    ASSERT_TRUE(ctr({"commit", earlier, earlier + "-active"}));
    for (const auto& key : containerd_snapshots()) {
        if (!key.starts_with("ctrbench-image-full-") || key == earlier || key.find("-extract-") != std::string::npos)
            continue;
        ASSERT_TRUE(ctr({"rm", key})) << key;
    }

    // Deletions (each schedules the collector), and a look at the extraction's snapshot: labelled a root?
    const std::string own_extraction = "-extract-" + std::to_string(::getpid());
    std::atomic<bool> churn{true};
    int seen = 0;
    std::vector<std::string> unrooted;
    std::thread deletions([&] {
        while (churn) {
            (void)ctr({"prepare", "ctrbench-test-gc-probe"});
            (void)ctr({"rm", "ctrbench-test-gc-probe"});
            for (const auto& key : containerd_snapshots()) {
                if (!key.ends_with(own_extraction)) continue;  // another process's is not this prepare's
                auto info = ctr({"info", key});
                if (!info || !info->ok()) continue;  // committed meanwhile: ctr says "not found"
                ++seen;
                if (info->out.find("containerd.io/gc.root") == std::string::npos)
                    unrooted.push_back(key + " (ctr says: " + info->out + info->err + ")");
            }
        }
    });
    ContainerSpec s;
    s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-gc";
    s.image = "full";
    s.rootfs = fs::path(CTRBENCH_IMAGES_DIR) / "full" / "rootfs";
    auto prepared = d.prepare(s);
    churn = false;
    deletions.join();
    EXPECT_TRUE(prepared) << prepared.error().message();
    EXPECT_TRUE(unrooted.empty()) << "the collector may remove " << unrooted.front() << " while it is written";
    std::cout << "extraction's snapshot looked at " << seen << " times while written\n";

    const auto ours = d.image_snapshot(s);
    ASSERT_TRUE(ours);
    bool built = false;
    for (const auto& key : containerd_snapshots()) {
        EXPECT_FALSE(key.ends_with(own_extraction)) << key;
        EXPECT_NE(key, "ctrbench-test-gc-probe");
        EXPECT_NE(key, earlier) << "the image's earlier build (no checkout's) stays beside the new one";
        built = built || key == *ours;
    }
    ASSERT_TRUE(built) << *ours;
    // The image is whole: the last hard link of the tar (uncompress -> gunzip) and a file's contents.
    auto c = d.create(s);
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_TRUE((*c)->start());
    auto r = (*c)->exec({"/bin/sh", "-c", "test /usr/bin/uncompress -ef /usr/bin/gunzip && cat /etc/debian_version"},
                        std::chrono::seconds(30));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_FALSE(r->out.empty());
    EXPECT_TRUE((*c)->stop());
    EXPECT_TRUE((*c)->clean());
}

// `harness --driver kata` exists on every host; where Kata is not installed (Debian 12 packages
// neither its containerd shim nor kata-runtime) it says why in one line, and creates nothing.
TEST(DriverFaults, KataWhereItIsNotInstalled) {
    EXPECT_EQ(kata::KataDriver::why_not(false, true), "");
    EXPECT_EQ(kata::KataDriver::why_not(true, false), "");
    EXPECT_NE(kata::KataDriver::why_not(false, false).find("containerd-shim-kata-v2"), std::string::npos);
    auto d = builtin_drivers().make("kata");
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->capabilities().vm);
    auto p = d->probe();
    if (p.available) GTEST_SKIP() << "skipped: Kata is installed here";
    EXPECT_NE(p.reason.find("Kata"), std::string::npos) << p.reason;
    EXPECT_TRUE(one_line(p.reason));
    auto c = d->create(spec("/nonexistent"));
    ASSERT_FALSE(c);
    EXPECT_TRUE(one_line(c.error().message()));
}

// A guest that never says it is ready (here: not within 300 ms; a real hang looks the same) is one
// line naming the deadline, and its VM is killed: no qemu, no VM directory left.
TEST(DriverFaults, MicrovmGuestThatNeverBecomesReady) {
    microvm::MicrovmDriver d;
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: microvm: " << p.reason;
    auto s = spec(fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs");
    ASSERT_TRUE(d.prepare(s));
    s.timeout = std::chrono::milliseconds(300);
    auto before = hostcheck::snapshot();
    auto c = d.create(s);
    ASSERT_TRUE(c) << c.error().message();
    auto started = (*c)->start();
    ASSERT_FALSE(started);
    EXPECT_NE(started.error().message().find("did not become ready within"), std::string::npos)
        << started.error().message();
    EXPECT_TRUE(one_line(started.error().message()));
    c->reset();
    EXPECT_FALSE(fs::exists(fs::path(microvm::kRunDir) / s.name));
    EXPECT_EQ(hostcheck::leftovers_after(before), "");
}

// Two harnesses preparing the same image at once (kill9_phases.sh's microvm sweeps found it): the one
// that finishes first drops the image's earlier initramfs builds, never another's half-written one;
// the half-written one of a writer that died goes with them.
TEST(DriverFaults, MicrovmPrepareLeavesAnotherWritersInitramfs) {
    microvm::MicrovmDriver d;
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: microvm: " << p.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-sweep-vm-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs/usr/bin");
    std::ofstream(dir / "rootfs/usr/bin/ctrbench-agent") << "not run\n";
    auto s = spec(dir / "rootfs");
    s.image = "ctrbench-test-sweep";
    std::ofstream(dir / (s.image + ".sha256")) << "1111111111111111111111111111111111111111  x.tar\n";
    const fs::path images = fs::path(microvm::kMicrovmDir) / "images";
    fs::create_directories(images);
    pid_t dead = ::fork();  // a writer that is gone: a child reaped at once
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    const fs::path live_tmp = images / (s.image + "-2222222222222222.cpio.tmp-" + std::to_string(::getpid()));
    const fs::path dead_tmp = images / (s.image + "-3333333333333333.cpio.tmp-" + std::to_string(dead));
    const fs::path earlier = images / (s.image + "-4444444444444444.cpio");
    for (const auto& f : {live_tmp, dead_tmp, earlier}) std::ofstream(f) << "x";
    auto prepared = d.prepare(s);
    const bool live_kept = fs::exists(live_tmp), dead_gone = !fs::exists(dead_tmp), earlier_gone = !fs::exists(earlier);
    for (const auto& e : fs::directory_iterator(images))
        if (e.path().filename().string().starts_with(s.image + "-")) fs::remove(e.path());
    forget_build("microvm", s.image + "-1111111111111111");
    fs::remove_all(dir);
    ASSERT_TRUE(prepared) << prepared.error().message();
    EXPECT_TRUE(live_kept) << "a live writer's half-written initramfs was removed";
    EXPECT_TRUE(dead_gone) << "a dead writer's half-written initramfs was left";
    EXPECT_TRUE(earlier_gone) << "the image's earlier build was left";
}

TEST(DriverFaults, MicrovmImageNotPrepared) {
    microvm::MicrovmDriver d;
    if (auto p = d.probe(); !p.available) GTEST_SKIP() << "skipped: microvm: " << p.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-unprepared-vm-" + std::to_string(::getpid()));
    fs::create_directories(dir / "rootfs");
    std::ofstream(dir / "minimal.sha256") << "00000000000000000000000000000000  minimal.tar\n";
    auto c = d.create(spec(dir / "rootfs"));
    fs::remove_all(dir);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("has no initramfs yet"), std::string::npos) << c.error().message();
    EXPECT_TRUE(one_line(c.error().message()));
}
