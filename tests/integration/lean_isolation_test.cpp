// The lean runtime on the real kernel: isolation is asserted, not only exit codes. Needs root and
// the minimal image (built by the `images` target). After every test nothing may be left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "drivers/common/capabilities.h"
#include "drivers/common/layer.h"
#include "drivers/lean/capabilities.h"
#include "drivers/lean/container.h"
#include "drivers/lean/lean_driver.h"
#include "harness/host_metadata.h"
#include "tests/integration/leftovers.h"

using namespace ctrbench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kRootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";

class LeanTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "skipped: the lean runtime needs root";
        auto probe = driver_->probe();
        if (!probe.available) GTEST_SKIP() << "skipped: " << probe.reason;
        ASSERT_TRUE(fs::exists(kRootfs / "bin/busybox")) << "the minimal image is not built at " << kRootfs;
        before_ = hostcheck::snapshot();
    }
    void TearDown() override {
        if (::geteuid() != 0 || HasFatalFailure()) return;
        driver_.reset();  // the cgroup pool goes with the driver
        EXPECT_EQ(hostcheck::leftovers_after(before_), "") << "left behind on the host";
    }

    ContainerSpec spec(const std::string& suffix = "") {
        ContainerSpec s;
        s.name = "ctrbench-test-" + std::to_string(::getpid()) + suffix;
        s.rootfs = kRootfs;
        s.timeout = 20s;
        return s;
    }

    // create, start, exec, stop, clean: each must succeed.
    ExecResult run(const ContainerSpec& s, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout = 20s) {
        auto c = driver_->create(s);
        EXPECT_TRUE(c) << (c ? "" : c.error().message());
        if (!c) return {};
        EXPECT_TRUE((*c)->start());
        auto r = (*c)->exec(argv, timeout);
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        EXPECT_TRUE((*c)->stop());
        EXPECT_TRUE((*c)->clean());
        return r ? *r : ExecResult{};
    }
    // start_lean_container's mode: the command itself is the first process; waits at most 10 s.
    Result<ExecResult> run_mode(const std::string& name, const std::vector<std::string>& argv, bool userns = false) {
        auto layout = discover_cgroups();
        if (!layout) return fail(std::move(layout.error()));
        auto pool = lean::CgroupPool::open(*layout);
        if (!pool) return fail(std::move(pool.error()));
        auto cg = (*pool)->acquire(Limits{});
        if (!cg) return fail(std::move(cg.error()));
        lean::Config cfg;
        cfg.name = name;
        cfg.rootfs = kRootfs;
        cfg.argv = argv;
        cfg.env = spec().env;
        cfg.userns = userns;
        auto c = lean::Sandbox::create(cfg, *cg, false);
        if (!c) return fail(std::move(c.error()));
        auto r = (*c)->wait(10s);
        c->reset();
        EXPECT_TRUE((*pool)->release(*cg));
        return r;
    }

    ExecResult sh(const std::string& script, const ContainerSpec& s) { return run(s, {"/bin/sh", "-c", script}); }
    ExecResult sh(const std::string& script) { return sh(script, spec()); }

    std::unique_ptr<Driver> driver_ = std::make_unique<lean::LeanDriver>();
    hostcheck::HostSnapshot before_;
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

TEST_F(LeanTest, BootRunsEchoAndReturnsOutput) {
    auto r = run(spec(), {"/bin/echo", "Hello World"});
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.out, "Hello World\n");
}

TEST_F(LeanTest, ExitCodeAndStderrComeBack) {
    auto r = sh("echo oops >&2; exit 7");
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(r.err, "oops\n");
    EXPECT_FALSE(r.ok());
}

TEST_F(LeanTest, OwnPidNamespaceWithTheFirstProcessAsPid1) {
    auto r = sh("cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'");
    ASSERT_TRUE(r.ok()) << r.describe() << r.err;
    auto nl = r.out.find('\n');
    EXPECT_EQ(r.out.substr(0, nl), "/bin/sleep infinity ");  // the container's own idle first process
    // Only the container's processes are visible: pid 1, the shell, cat/ls/grep, not the host's.
    EXPECT_LE(std::stoi(r.out.substr(nl + 1)), 5);
}

TEST_F(LeanTest, RunModeCommandIsPid1) {
    auto r = run_mode("ctrbench-runmode", {"/usr/bin/ctrbench-agent", "ids"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->ok());
}

TEST_F(LeanTest, HostnameIsTheContainersOwn) {
    auto s = spec("-host");
    auto r = run(s, {"/bin/hostname"});
    EXPECT_EQ(trim(r.out), s.name);
    EXPECT_NE(trim(r.out), host_name());
    // Changing it needs CAP_SYS_ADMIN, which a container does not have (as in Docker).
    auto r2 = sh("hostname other 2>&1; hostname");
    EXPECT_NE(r2.out.find("Operation not permitted"), std::string::npos) << r2.out;
    EXPECT_NE(host_name(), "other");
}

TEST_F(LeanTest, HostFilesAreNotVisible) {
    auto secret = fs::path("/tmp") / ("ctrbench-secret-" + std::to_string(::getpid()));
    std::ofstream(secret) << "host only\n";
    auto here = fs::current_path();
    auto r = sh("cat " + secret.string() + "; ls /tmp; test -e " + here.string() +
                " && echo SEES_HOST_CWD; "
                "test -e /work && echo SEES_WORK; test -e " +
                kRootfs.string() + " && echo SEES_IMAGE_PATH; true");
    fs::remove(secret);
    EXPECT_EQ(r.out.find("host only"), std::string::npos);
    EXPECT_EQ(r.out.find("ctrbench-secret"), std::string::npos);
    EXPECT_EQ(r.out.find("SEES_"), std::string::npos) << r.out;
}

TEST_F(LeanTest, DotDotFromRootStaysInside) {
    auto r = sh("cd /../../../..; pwd; ls -a; cd /proc/1/root/../..; ls");
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_EQ(r.out.substr(0, 2), "/\n");
    EXPECT_NE(r.out.find("linuxrc"), std::string::npos);  // the busybox image's own root
    for (const auto& e : fs::directory_iterator("/"))
        if (!fs::exists(kRootfs / e.path().filename())) {
            EXPECT_EQ(r.out.find("\n" + e.path().filename().string() + "\n"), std::string::npos)
                << "host directory " << e.path() << " seen from inside";
        }
}

TEST_F(LeanTest, ReadOnlyRootfsWithWritableTmp) {
    auto s = spec("-ro");
    s.read_only_rootfs = true;
    auto r = sh("echo x > /etc/new 2>&1; echo rc=$?; echo data > /tmp/f && cat /tmp/f", s);
    EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("data"), std::string::npos);
    EXPECT_FALSE(fs::exists(kRootfs / "etc/new"));
}

TEST_F(LeanTest, WritableLayerIsTheContainersAndGoneAfterClean) {
    auto c = driver_->create(spec("-layer"));
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->start());
    auto w =
        (*c)->exec({"/bin/sh", "-c", "echo mine > /etc/marker && cat /etc/marker && readlink /proc/1/ns/mnt"}, 10s);
    ASSERT_TRUE(w && w->ok()) << (w ? w->err : w.error().message());
    EXPECT_EQ(w->out.substr(0, 5), "mine\n");
    std::string mntns = trim(w->out.substr(5));
    EXPECT_FALSE(fs::exists(kRootfs / "etc/marker")) << "the image itself must stay untouched";
    ASSERT_TRUE((*c)->stop());
    ASSERT_TRUE((*c)->clean());
    c->reset();
    // The layer lived only in the container's mount namespace; no process holds that namespace now.
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::error_code ec;
        auto link = fs::read_symlink(e.path() / "ns/mnt", ec);
        if (!ec) {
            EXPECT_NE(link.string(), mntns) << "mount namespace still alive in " << e.path();
        }
    }
    auto again = sh("cat /etc/marker 2>&1; true");
    EXPECT_EQ(again.out.find("mine"), std::string::npos);
}

// /dev/shm as Docker gives it: a writable tmpfs (nosuid, nodev, noexec, 64 MiB) of the container's
// own — what is written there is not in the host's /dev/shm nor in the next container's — while the
// rest of /dev stays read-only.
TEST_F(LeanTest, DevShmIsAWritableTmpfsOfItsOwn) {
    const std::string marker = "ctrbench-shm-" + std::to_string(::getpid());
    auto r = sh("echo hi > /dev/shm/" + marker + " && cat /dev/shm/" + marker +
                " && grep ' /dev/shm ' /proc/mounts && (touch /dev/x 2>&1; true)");
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.out.substr(0, 3), "hi\n") << r.out;
    EXPECT_NE(r.out.find("tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("size=65536k"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists("/dev/shm/" + marker)) << "the container wrote into the host's /dev/shm";
    auto next = sh("ls /dev/shm");
    EXPECT_TRUE(next.ok()) << next.describe();
    EXPECT_EQ(next.out, "") << "the previous container's /dev/shm is visible in the next one";
}

TEST_F(LeanTest, MemoryLimitKillsAndReportsOutOfMemory) {
    auto s = spec("-oom");
    s.limits.memory_bytes = 32ULL << 20;
    auto r = run(s, {"/usr/bin/ctrbench-agent", "memhog", "256"});
    EXPECT_TRUE(r.oom_killed) << r.describe() << " " << r.out;
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.out.find("allocated"), std::string::npos);
    // Under the limit the same helper succeeds: the limit, not the helper, killed it.
    auto ok = run(s, {"/usr/bin/ctrbench-agent", "memhog", "8"});
    EXPECT_TRUE(ok.ok()) << ok.describe();
    EXPECT_FALSE(ok.oom_killed);
}

TEST_F(LeanTest, ForkBombStopsAtThePidsLimit) {
    auto s = spec("-pids");
    s.limits.pids = 32;
    auto r = run(s, {"/usr/bin/ctrbench-agent", "forkbomb", "500"});
    ASSERT_TRUE(r.ok()) << r.describe() << r.err;
    long made = std::stol(r.out.substr(std::string("forked ").size()));
    EXPECT_LT(made, 32) << r.out;
    EXPECT_GT(made, 5) << r.out;
    EXPECT_NE(r.out.find("Resource temporarily unavailable"), std::string::npos) << r.out;
}

TEST_F(LeanTest, HangingCommandIsKilledAtTheTimeout) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = run(spec("-hang"), {"/usr/bin/ctrbench-agent", "hang"}, 300ms);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.ok());
    EXPECT_LT(took, 5s);
    EXPECT_GE(took, 300ms);
}

TEST_F(LeanTest, CapabilitiesAreDockersDefaultWithoutNetRawAndNoNewPrivs) {
    auto r = run(spec(), {"/usr/bin/ctrbench-agent", "ids"});
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r.out.find("CapEff:\t00000000a80405fb"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("CapBnd:\t00000000a80405fb"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
    auto m = sh("mount -t tmpfs none /tmp 2>&1; echo rc=$?");
    EXPECT_NE(m.out.find("permission denied"), std::string::npos)
        << "mount needs CAP_SYS_ADMIN, which is dropped: " << m.out;
    EXPECT_EQ(m.out.find("rc=0"), std::string::npos) << m.out;
}

TEST_F(LeanTest, DeviceNodesMadeInsideCannotReachHostDisks) {
    struct stat st {};
    ASSERT_EQ(::stat("/", &st), 0);
    std::string dev = std::to_string(major(st.st_dev)) + " " + std::to_string(minor(st.st_dev));
    // CAP_MKNOD is in Docker's set; nodev on every writable mount makes such a node useless.
    auto r = sh("mknod /disk b " + dev +
                " && head -c 1 /disk >/dev/null 2>&1; echo rc=$?; "
                "mknod /tmp/disk b " +
                dev + " && head -c 1 /tmp/disk > /dev/null 2>&1; echo rc=$?");
    EXPECT_EQ(r.out, "rc=1\nrc=1\n") << r.err;
}

TEST_F(LeanTest, NetworkIsOnlyLoopback) {
    auto r = sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
    EXPECT_EQ(r.out, "lo\n");
}

TEST_F(LeanTest, KernelKnobsAreReadOnly) {
    auto r = sh("echo 1 > /proc/sys/kernel/domainname 2>/dev/null; echo rc=$?");
    EXPECT_EQ(r.out, "rc=1\n");
}

TEST_F(LeanTest, CgroupLimitsAreApplied) {
    auto s = spec("-cg");
    s.limits.memory_bytes = 200ULL << 20;
    s.limits.pids = 77;
    s.limits.cpus = 0.5;
    auto c = driver_->create(s);
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->start());
    auto r = (*c)->exec({"/bin/sh", "-c", "cat /proc/self/cgroup"}, 10s);
    ASSERT_TRUE(r && r->ok());
    auto layout = discover_cgroups();
    ASSERT_TRUE(layout);
    const bool v1 = layout->version == CgroupVersion::V1;
    // Inside: a cgroup namespace rooted at the container's cgroup.
    EXPECT_NE(r->out.find(v1 ? ":memory:/\n" : "0::/\n"), std::string::npos) << r->out;
    // Outside: the pooled cgroup the container runs in (this process's pool, "ctrbench-<pid>/c<n>":
    // other cgroups on the host may be named c… too) carries the limits, in v1's or v2's files.
    auto read = [](const fs::path& f) {
        std::ifstream in(f);
        std::string v;
        std::getline(in, v);
        return v;
    };
    const fs::path& memory_base = v1 ? layout->bases[1] : layout->bases[0];
    const fs::path pool = memory_base / ("ctrbench-" + std::to_string(::getpid()));
    bool found = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(pool, ec)) {
        if (!e.is_directory() || read(e.path() / "cgroup.procs").empty()) continue;
        const auto rel = e.path().lexically_relative(memory_base);
        if (v1) {
            EXPECT_EQ(read(e.path() / "memory.limit_in_bytes"), std::to_string(200ULL << 20));
            EXPECT_EQ(read(layout->bases[2] / rel / "pids.max"), "77");
            EXPECT_EQ(read(layout->bases[0] / rel / "cpu.cfs_quota_us"), "50000");  // 0.5 CPU
            EXPECT_EQ(read(layout->bases[0] / rel / "cpu.cfs_period_us"), "100000");
        } else {
            EXPECT_EQ(read(e.path() / "memory.max"), std::to_string(200ULL << 20));
            EXPECT_EQ(read(e.path() / "pids.max"), "77");
            EXPECT_EQ(read(e.path() / "cpu.max"), "50000 100000");
        }
        found = true;
    }
    EXPECT_TRUE(found) << "no pooled cgroup holds the container";
    ASSERT_TRUE((*c)->stop());
    ASSERT_TRUE((*c)->clean());
}

TEST_F(LeanTest, CgroupsAreReusedFromThePool) {
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(run(spec("-" + std::to_string(i)), {"/bin/true"}).ok());
    auto layout = discover_cgroups();
    int pools = 0;
    for (const auto& e : fs::directory_iterator(layout->bases[0]))
        if (e.path().filename() == "ctrbench-" + std::to_string(::getpid()))
            for (const auto& c : fs::directory_iterator(e.path())) pools += c.is_directory();
    EXPECT_EQ(pools, 1) << "five containers in a row should share one pooled cgroup";
}

TEST_F(LeanTest, MissingCommandIsAClearError) {
    auto c = driver_->create(spec());
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->start());
    auto r = (*c)->exec({"/bin/nope"}, 5s);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("exec /bin/nope: No such file or directory"), std::string::npos)
        << r.error().message();
}

TEST_F(LeanTest, BadConfigIsRejectedBeforeAnythingRuns) {
    lean::Config cfg;
    cfg.name = "x";
    cfg.rootfs = "relative/rootfs";
    cfg.argv = {"/bin/true"};
    auto s = lean::check_config(cfg);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("absolute"), std::string::npos);
    cfg.rootfs = "/nonexistent-rootfs";
    EXPECT_FALSE(lean::check_config(cfg));
    cfg.rootfs = kRootfs;
    cfg.argv = {"/bin/nothere"};
    s = lean::check_config(cfg);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("not found in rootfs"), std::string::npos);
    auto sp = spec();
    sp.rootfs = "/nonexistent-rootfs";
    auto c = driver_->create(sp);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("/nonexistent-rootfs"), std::string::npos);
}

TEST_F(LeanTest, DestroyingARunningContainerCleansUp) {
    // The error path: a container dropped without stop/clean (an exception, an early return).
    auto c = driver_->create(spec("-drop"));
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->start());
    c->reset();
}

// A hostile payload's thread makes the launcher its tracer (PTRACE_TRACEME) and the process exits:
// the traced thread stays a zombie until its tracer reaps it, and until then neither the process
// nor (for a PID 1) its namespace can end. Neither the first process nor an exec'd command may hang
// the harness: the run ends within its time, and nothing is left (issue 13).
TEST_F(LeanTest, PtraceTracemeThreadNeverHangsTheHarness) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run(spec("-traceme"), {"/usr/bin/ctrbench-agent", "traceme-thread"}, 10s);
    EXPECT_FALSE(r.timed_out) << "the exec'd command's traced thread held it";
    EXPECT_TRUE(r.ok()) << r.describe() << r.err;
    EXPECT_NE(r.out.find("traceme"), std::string::npos) << r.out;

    auto w = run_mode("ctrbench-traceme-init", {"/usr/bin/ctrbench-agent", "traceme-thread"});  // PID 1
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_FALSE(w->timed_out) << "PID 1's traced thread held the container's end";
    EXPECT_TRUE(w->ok()) << w->describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// Docker's masked and read-only kernel files (drivers/lean/setup_plan.h) and its empty inheritable
// capability set: the host's keyrings and timers are not readable, /proc/bus and friends cannot be
// written, and nothing passes through file capabilities (issue 13).
TEST_F(LeanTest, KernelFilesMaskedReadOnlyAndNoInheritableCapabilities) {
    auto r =
        sh("echo keys=$(wc -c < /proc/keys) timers=$(wc -c < /proc/timer_list) kcore=$([ -e /proc/kcore ] && wc -c < "
           "/proc/kcore || echo absent); "
           "echo acpi=$(ls /proc/acpi 2>/dev/null | wc -l); "
           "touch /proc/acpi/x 2>/dev/null && echo acpi-writable; "
           "for p in /proc/sys/kernel/hostname /proc/sysrq-trigger; do (echo x > $p) 2>/dev/null && echo writable $p; "
           "done; "
           "grep -q ' /proc/bus ' /proc/mounts && grep ' /proc/bus ' /proc/mounts | grep -q ' ro,' && echo bus-ro; "
           "grep CapInh /proc/self/status; ls /sys/firmware 2>/dev/null | wc -l");
    ASSERT_TRUE(r.ok()) << r.describe() << r.err;
    EXPECT_NE(r.out.find("keys=0 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("timers=0 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fs::exists("/proc/kcore") ? "kcore=0" : "kcore=absent"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("acpi=0"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("acpi-writable"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("writable /proc"), std::string::npos) << r.out;
    if (fs::exists("/proc/bus")) {
        EXPECT_NE(r.out.find("bus-ro"), std::string::npos) << r.out;
    }
    EXPECT_NE(r.out.find("CapInh:\t0000000000000000"), std::string::npos) << r.out;
    EXPECT_TRUE(r.out.ends_with("\n0\n")) << "no sysfs, so no /sys/firmware: " << r.out;
    // The host's own files are untouched: the masks live in the container's mount namespace only.
    std::ifstream keys("/proc/keys");
    std::string line;
    EXPECT_TRUE(static_cast<bool>(std::getline(keys, line))) << "the host still reads its /proc/keys";
}

// --userns: root inside is host uid 100000. What the container reaches of the host it reaches as
// that user: a host file owned by root, bound in writable, cannot be changed (it can without a user
// namespace), and what the first process and an exec'd command write is owned by 100000 on the host.
TEST_F(LeanTest, UserNamespaceMakesRootAnUnprivilegedHostUser) {
    const fs::path host_dir = fs::temp_directory_path() / ("ctrbench-test-" + std::to_string(::getpid()) + "-hostdir");
    fs::create_directories(host_dir);
    std::ofstream(host_dir / "host-file") << "host\n";
    fs::permissions(host_dir, fs::perms(0755));
    fs::permissions(host_dir / "host-file", fs::perms(0644));
    const std::string script =
        "cat /proc/self/uid_map; id -u; echo exec > /made-by-exec; echo changed >> /hostdir/host-file && echo wrote";
    auto s = spec("-userns");
    s.userns = true;
    s.mounts = {{host_dir, "/hostdir", false}};
    s.init = {"/bin/sh", "-c", "echo init > /made-by-init; exec sleep 1000"};
    ASSERT_TRUE(driver_->prepare(s));
    auto c = driver_->create(s);
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_TRUE((*c)->start());
    auto r = (*c)->exec({"/bin/sh", "-c", script}, 10s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NE(r->out.find("100000"), std::string::npos) << r->out;  // "0 100000 65536"
    EXPECT_NE(r->out.find("\n0\n"), std::string::npos) << "root inside: " << r->out;
    EXPECT_EQ(r->out.find("wrote"), std::string::npos) << "root of the user namespace changed a host root's file";
    EXPECT_NE(r->err.find("Permission denied"), std::string::npos) << r->err;
    const fs::path upper = layer_dir("lean", s.name) / "upper";
    for (const char* f : {"made-by-init", "made-by-exec"}) {
        struct stat st {};
        EXPECT_EQ(::stat((upper / f).c_str(), &st), 0) << f;
        EXPECT_EQ(st.st_uid, 100000u) << f << " is owned by host uid " << st.st_uid;
    }
    ASSERT_TRUE((*c)->stop());
    ASSERT_TRUE((*c)->clean());
    std::ifstream in(host_dir / "host-file");
    std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content, "host\n");
    // The same without a user namespace: root inside is root of the host's files.
    auto plain = spec("-plain");
    plain.mounts = s.mounts;
    EXPECT_NE(sh("echo changed >> /hostdir/host-file && echo wrote", plain).out.find("wrote"), std::string::npos);
    fs::remove_all(host_dir);
    // Run mode (the command as the first process) maps it too.
    auto rm = run_mode("ctrbench-test-" + std::to_string(::getpid()) + "-usernsrun",
                       {"/bin/sh", "-c", "grep -q 100000 /proc/self/uid_map && touch /x"}, true);
    ASSERT_TRUE(rm) << rm.error().message();
    EXPECT_EQ(rm->exit_code, 0);
}

// A capability the harness itself does not hold (this project's hosts run root without
// CAP_SYS_RESOURCE) cannot be given to a container: create says so in one line naming it, before
// any process starts, instead of the exec's bare EPERM from capset.
TEST_F(LeanTest, ACapabilityTheHarnessLacksIsOneLineAtCreate) {
    const std::uint64_t held = lean::held_capabilities();
    std::string lacking;
    for (const char* cap : {"SYS_RESOURCE", "SYS_MODULE", "SYS_BOOT", "MAC_ADMIN", "SYS_RAWIO"})
        if (auto m = capability_mask({cap}); m && (*m & ~held)) {
            lacking = cap;
            break;
        }
    if (lacking.empty()) GTEST_SKIP() << "this process holds every capability tried";
    auto s = spec();
    s.add_caps = {lacking};
    auto c = driver_->create(s);
    ASSERT_FALSE(c) << "created with " << lacking;
    const auto msg = c.error().message();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not hold"), std::string::npos) << msg;
    std::string lower = lacking;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(msg.find("cap_" + lower), std::string::npos) << msg;
}
