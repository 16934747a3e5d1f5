// The checkpoint workloads with the real CRIU on the real kernel, on every driver that can restore
// (its Capabilities say so): every memory size, eager and lazy; what a restored process keeps (its
// memory, its listening socket) and where it is (the container's namespaces and cgroup, not the
// host's); the faults as one line each; nothing left on the host.
#include "workloads/checkpoint.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "drivers/driver.h"
#include "tests/integration/leftovers.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kRootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";

std::string uname_release() {
    struct utsname u {};
    return ::uname(&u) == 0 ? u.release : "";
}

bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos;
}

// The drivers that can restore, by their capabilities: CRIU inside their containers (lean), or an
// engine that checkpoints whole containers (podman and docker with runc). "driver" or "driver:runtime".
// `engine_only`: those whose engine restores whole containers.
std::vector<std::string> restoring_drivers(bool engine_only = false) {
    std::vector<std::string> out;
    auto reg = builtin_drivers();
    for (const auto& name : reg.names()) {
        auto runtimes = reg.runtimes(name);
        if (runtimes.empty()) runtimes = {""};
        for (const auto& rt : runtimes)
            if (auto d = reg.make(name, rt);
                d && ((d->capabilities().checkpoint && !engine_only) || d->capabilities().engine_checkpoint))
                out.push_back(rt.empty() ? name : name + ":" + rt);
    }
    return out;
}

class CheckpointTest : public ::testing::Test {
protected:
    void set_up(const std::string& driver) {
        const auto colon = driver.find(':');
        driver_ =
            builtin_drivers().make(driver.substr(0, colon), colon == std::string::npos ? "" : driver.substr(colon + 1));
        ASSERT_TRUE(driver_);
        if (auto p = driver_->probe(); !p.available) GTEST_SKIP() << "skipped: " << p.reason;
        if (auto c = criu_for_containers(); !c) GTEST_SKIP() << "skipped: " << c.error().message();
        if (auto why = CheckpointWorkload(false).unsupported(driver_->capabilities(), kRootfs); !why.empty())
            GTEST_SKIP() << "skipped: " << why;
        before_ = hostcheck::snapshot();
        base_.name = "ctrbench-test-" + std::to_string(::getpid()) + "-ckpt";
        base_.rootfs = kRootfs;
        ASSERT_TRUE(driver_->prepare(base_));
    }
    void TearDown() override {
        if (IsSkipped() || !driver_) return;
        driver_.reset();
        EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "");
    }
    // A fresh container for a run of `w` at `param`, with what its setup made.
    Result<std::unique_ptr<Container>> container(const CheckpointWorkload& w, const std::string& param,
                                                 const Workload::Setup& setup) {
        ContainerSpec s = base_;
        s.name = base_.name + "-" + std::to_string(++runs_);
        s.mounts.insert(s.mounts.end(), setup.mounts.begin(), setup.mounts.end());  // as the runner: then prepare
        if (auto st = w.prepare(s, param); !st) return fail(std::move(st.error()));
        auto c = driver_->create(s);
        if (!c) return c;
        if (auto st = (*c)->start(); !st) return fail(std::move(st.error()));
        return c;
    }
    // One run: restore, check, wake. The outcome of the wake, or the one-line error of the step that failed.
    static Result<Outcome> run(const CheckpointWorkload& w, const std::string& param, Container& c) {
        auto r = c.exec(w.command(param), 120s);
        if (!r) return fail(std::move(r.error()));
        if (auto ok = w.check(*r, param); !ok) return ok;
        return w.await_response(c, param, 120s);
    }
    std::unique_ptr<Driver> driver_;
    ContainerSpec base_;
    int runs_ = 0;
    hostcheck::HostSnapshot before_;
};

// Every memory size, eager and lazy, on every driver that restores: dumped once, restored into a
// fresh container, its memory as it was (the process checks its own checksum) and its socket listening.
class CheckpointEverySize : public CheckpointTest,
                            public ::testing::WithParamInterface<std::tuple<std::string, bool>> {};

TEST_P(CheckpointEverySize, RestoresEveryParameter) {
    const auto& [driver, lazy] = GetParam();
    set_up(driver);
    if (IsSkipped()) return;
    const CheckpointWorkload w(lazy);
    if (auto why = w.unsupported(driver_->capabilities(), kRootfs); !why.empty()) {
        EXPECT_NE(why.find("lazy"), std::string::npos) << why;  // the engine path has no lazy restore
        GTEST_SKIP() << "skipped: " << why;
    }
    const bool engine = w.measures_itself_with(driver_->capabilities());
    for (const auto& mem : w.param_values()) {
        SCOPED_TRACE(w.name() + " mem=" + mem);
        auto setup = w.setup(*driver_, base_, mem);
        ASSERT_TRUE(setup) << setup.error().message();
        ASSERT_GT(setup->figures.at("dump_ms"), 0);
        const fs::path images = setup->mounts.front().source;
        if (engine) {  // the workload measures itself: the engine restores a new container and it is woken
            ContainerSpec s = base_;
            s.name = base_.name + "-" + std::to_string(++runs_);
            s.mounts = setup->mounts;
            auto out = w.measure(*driver_, s, mem);
            ASSERT_TRUE(out) << out.error().message();
            EXPECT_NE(out->detail.find("listen ok"), std::string::npos) << out->detail;
            std::cout << w.name() << " mem=" << mem << ": dump " << setup->figures.at("dump_ms") << " ms, restore "
                      << out->figures.at("restore_ms") << " ms, execution " << out->figures.at("execution_ms")
                      << " ms\n";
            setup->keep.reset();
            EXPECT_FALSE(fs::exists(images)) << "the checkpoint outlives the parameter's runs";
            continue;
        }
        auto c = container(w, mem, *setup);
        ASSERT_TRUE(c) << c.error().message();
        auto out = run(w, mem, **c);
        ASSERT_TRUE(out) << out.error().message();
        EXPECT_GT(out->figures.at("restore_ms"), 0);
        EXPECT_GT(out->figures.at("execution_ms"), 0);
        EXPECT_NE(out->detail.find(" ok "), std::string::npos) << out->detail;
        EXPECT_NE(out->detail.find("listen ok"), std::string::npos) << out->detail;
        std::cout << w.name() << " mem=" << mem << ": dump " << setup->figures.at("dump_ms") << " ms, restore "
                  << out->figures.at("restore_ms") << " ms, execution " << out->figures.at("execution_ms") << " ms\n";
        EXPECT_TRUE((*c)->stop());
        EXPECT_TRUE((*c)->clean());
        EXPECT_TRUE(fs::exists(images / "inventory.img"));
        setup->keep.reset();
        EXPECT_FALSE(fs::exists(images)) << "the images outlive the parameter's runs";
    }
}

INSTANTIATE_TEST_SUITE_P(Drivers, CheckpointEverySize,
                         ::testing::Combine(::testing::ValuesIn(restoring_drivers()), ::testing::Bool()),
                         [](const auto& info) {
                             auto name = std::get<0>(info.param) + (std::get<1>(info.param) ? "_lazy" : "_eager");
                             std::replace(name.begin(), name.end(), ':', '_');
                             return name;
                         });

// The restored process is the container's: in its pid, network and mount namespaces and its cgroup
// (so under its limits), none of them the host's; and it answers on its listening socket.
TEST_F(CheckpointTest, RestoredProcessIsInsideTheContainer) {
    set_up("lean");
    if (IsSkipped()) return;
    const CheckpointWorkload w(false);
    auto setup = w.setup(*driver_, base_, "1");
    ASSERT_TRUE(setup) << setup.error().message();
    auto c = container(w, "1", *setup);
    ASSERT_TRUE(c) << c.error().message();
    auto r = (*c)->exec(w.command("1"), 60s);
    ASSERT_TRUE(r && r->ok()) << (r ? r->err : r.error().message());
    auto ids = (*c)->exec({"/bin/sh", "-c",
                           "p=$(cat /tmp/ctrbench-checkpoint/restored.pid); for n in pid net mnt; do "
                           "echo $n $(readlink /proc/$p/ns/$n) $(readlink /proc/self/ns/$n); done; "
                           "echo cgroup $(grep memory /proc/$p/cgroup) $(grep memory /proc/self/cgroup)"},
                          30s);
    ASSERT_TRUE(ids && ids->ok()) << (ids ? ids->err : ids.error().message());
    std::istringstream in(ids->out);
    std::string what, restored, container_own;
    int lines = 0;
    while (in >> what >> restored >> container_own) {
        ++lines;
        EXPECT_EQ(restored, container_own) << what << ": the restored process is not in the container's";
        if (what != "cgroup") {
            const auto host = fs::read_symlink("/proc/self/ns/" + what).string();
            EXPECT_NE(restored, host) << what << ": the restored process is in the host's";
        }
    }
    EXPECT_EQ(lines, 4) << ids->out;
    auto woken = w.await_response(**c, "1", 30s);
    ASSERT_TRUE(woken) << woken.error().message();
    EXPECT_NE(woken->detail.find("listen ok"), std::string::npos) << woken->detail;
    EXPECT_TRUE((*c)->stop());
    EXPECT_TRUE((*c)->clean());
}

// An engine's restore gives the new container the dumped one's filesystem: what its processes added,
// changed and deleted in the image (docker's dump leaves the filesystem out: the driver carries it).
class EngineRestore : public CheckpointTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(EngineRestore, CarriesTheFilesystemChanges) {
    set_up(GetParam());
    if (IsSkipped()) return;
    const fs::path dir = fs::path("/dev/shm") / (base_.name + "-fs");
    fs::create_directories(dir);
    struct RemoveAll {
        fs::path p;
        ~RemoveAll() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } remove_dir{dir};  // on a failed assertion too
    ContainerSpec s = base_;
    s.name = base_.name + "-dumped";
    s.init = {"/bin/sh", "-c",
              "rm /etc/group /bin/cpio && mkdir /tmp/made && echo added > /tmp/made/file && "
              "echo changed >> /etc/passwd && touch /tmp/ready && exec sleep 1000"};
    auto c = driver_->create(s);
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_TRUE((*c)->start());
    auto ready = (*c)->exec(
        {"/bin/sh", "-c", "for i in $(seq 100); do [ -e /tmp/ready ] && exit 0; sleep 0.05; done; exit 1"}, 30s);
    ASSERT_TRUE(ready && ready->ok());
    auto dumped = (*c)->checkpoint(dir / "checkpoint");
    ASSERT_TRUE(dumped) << dumped.error().message();
    EXPECT_TRUE((*c)->clean());
    c->reset();
    ContainerSpec r = base_;
    r.name = base_.name + "-restored";
    auto restored = driver_->restore(r, dir / "checkpoint");
    ASSERT_TRUE(restored) << restored.error().message();
    auto seen = (*restored)->exec({"/bin/sh", "-c",
                                   "for p in /etc/group /bin/cpio; do [ -e $p ] && echo still $p; done; "
                                   "cat /tmp/made/file; tail -n 1 /etc/passwd; [ -e /bin/cat ] && echo kept"},
                                  30s);
    ASSERT_TRUE(seen && seen->ok()) << (seen ? seen->err : seen.error().message());
    EXPECT_EQ(seen->out, "added\nchanged\nkept\n") << "deleted paths must stay deleted, added and changed ones carried";
    EXPECT_TRUE((*restored)->stop());
    EXPECT_TRUE((*restored)->clean());
    restored->reset();
}

INSTANTIATE_TEST_SUITE_P(Drivers, EngineRestore, ::testing::ValuesIn(restoring_drivers(true)), [](const auto& info) {
    auto name = info.param;
    std::replace(name.begin(), name.end(), ':', '_');
    return name;
});

// A process CRIU cannot dump (a unix socket whose peer is outside its tree) is one line naming why.
TEST_F(CheckpointTest, UndumpableProcessIsOneLine) {
    set_up("lean");
    if (IsSkipped()) return;
    const CheckpointWorkload w(false);
    const fs::path images = fs::path("/dev/shm") / (base_.name + "-undumpable");
    fs::create_directories(images);
    ContainerSpec s = base_;
    ASSERT_TRUE(w.prepare(s, "1"));
    s.mounts.push_back({images, CheckpointWorkload::kImages, false});
    auto c = driver_->create(s);
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_TRUE((*c)->start());
    auto touched = (*c)->exec({"/usr/bin/ctrbench-agent", "memtouch", "1", "/tmp", "external-unix"}, 30s);
    ASSERT_TRUE(touched && touched->ok());
    const auto pid = touched->out.substr(touched->out.find("pid ") + 4);
    auto dumped = (*c)->exec({"/usr/bin/ctrbench-agent", "criu-dump", pid.substr(0, pid.find(' ')),
                              CheckpointWorkload::kImages, CheckpointWorkload::kWork},
                             30s);
    ASSERT_TRUE(dumped);
    EXPECT_NE(dumped->exit_code, 0);
    std::string err = dumped->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    EXPECT_TRUE(one_line(err)) << err;
    EXPECT_NE(err.find("criu dump failed"), std::string::npos) << err;
    EXPECT_NE(err.find("xternal"), std::string::npos) << "names the external socket: " << err;
    EXPECT_TRUE((*c)->stop());
    EXPECT_TRUE((*c)->clean());
    fs::remove_all(images);
}

// A corrupted checkpoint (its pages overwritten) and a restore that fails half-way (the process's pid
// taken in the new container) are one line each; the next run, and the cleanup, go on.
TEST_F(CheckpointTest, CorruptImageAndHalfWayFailureAreOneLineEach) {
    set_up("lean");
    if (IsSkipped()) return;
    const CheckpointWorkload w(false);
    auto setup = w.setup(*driver_, base_, "4");
    ASSERT_TRUE(setup) << setup.error().message();
    const fs::path images = setup->mounts.front().source;
    {  // the pid the restore needs, taken in the new container before the restore
        auto c = container(w, "4", *setup);
        ASSERT_TRUE(c) << c.error().message();
        auto taken = (*c)->exec({"/usr/bin/ctrbench-agent", "memtouch", "1", "/tmp"}, 30s);
        ASSERT_TRUE(taken && taken->ok());
        auto out = run(w, "4", **c);
        ASSERT_FALSE(out) << "restored although its pid was taken";
        EXPECT_TRUE(one_line(out.error().message())) << out.error().message();
        EXPECT_NE(out.error().message().find("criu restore"), std::string::npos) << out.error().message();
        std::cout << "pid taken: " << out.error().message() << "\n";
        EXPECT_TRUE((*c)->stop());
        EXPECT_TRUE((*c)->clean());
    }
    {  // every page of the checkpoint overwritten
        bool garbled = false;
        for (const auto& e : fs::directory_iterator(images))
            if (e.path().filename().string().starts_with("pages-")) {
                std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
                const auto size = fs::file_size(e.path());
                for (std::uintmax_t at = 0; at < size; at += 4096) {
                    f.seekp(static_cast<std::streamoff>(at));
                    f.write("garbage!", 8);
                }
                garbled = true;
            }
        ASSERT_TRUE(garbled);
        auto c = container(w, "4", *setup);
        ASSERT_TRUE(c) << c.error().message();
        auto out = run(w, "4", **c);
        ASSERT_FALSE(out) << "a garbled checkpoint was restored as if whole";
        EXPECT_TRUE(one_line(out.error().message())) << out.error().message();
        std::cout << "garbled pages: " << out.error().message() << "\n";
        EXPECT_TRUE((*c)->stop());
        EXPECT_TRUE((*c)->clean());
    }
    {  // a checkpoint from another kernel (its stamp says so): refused before any container is made
        const auto stamp = images / "kernel";
        std::string here;
        ASSERT_TRUE(std::getline(std::ifstream(stamp), here)) << "the setup stamped no kernel";
        EXPECT_EQ(here, uname_release());
        for (const auto& [content, says] : std::vector<std::pair<std::string, std::string>>{
                 {"2.6.32-elsewhere\n", "made on kernel 2.6.32-elsewhere, this host runs " + here},
                 {"", "does not say which kernel made it"}}) {
            std::ofstream(stamp, std::ios::trunc) << content;
            auto c = container(w, "4", *setup);
            ASSERT_FALSE(c) << "a checkpoint stamped '" << content << "' was taken for a restore";
            EXPECT_TRUE(one_line(c.error().message())) << c.error().message();
            EXPECT_NE(c.error().message().find(says), std::string::npos) << c.error().message();
            std::cout << "stamped '" << content.substr(0, content.find('\n')) << "': " << c.error().message() << "\n";
        }
        std::ofstream(stamp, std::ios::trunc) << here << "\n";
    }
    {  // a header of the checkpoint truncated: criu says so
        std::ofstream(images / "inventory.img", std::ios::trunc) << "x";
        auto c = container(w, "4", *setup);
        ASSERT_TRUE(c) << c.error().message();
        auto out = run(w, "4", **c);
        ASSERT_FALSE(out);
        EXPECT_TRUE(one_line(out.error().message())) << out.error().message();
        std::cout << "truncated inventory: " << out.error().message() << "\n";
        EXPECT_TRUE((*c)->stop());
        EXPECT_TRUE((*c)->clean());
    }
}

// Which criu: missing, not static, not a criu at all: one line each, and the workload says it cannot
// run (the runner reports "skipped" with it), before any container.
TEST(CheckpointFaults, CriuThatCannotServeIsOneLine) {
    const auto rootfs = kRootfs;
    Capabilities caps;
    caps.checkpoint = false;
    caps.unconfined_seccomp = true;
    const CheckpointWorkload w(false);
    EXPECT_NE(w.unsupported(caps, rootfs).find("no CRIU path"), std::string::npos);
    caps.checkpoint = true;
    const char* old = std::getenv("CTRBENCH_CRIU");
    const std::string keep = old ? old : "";
    for (const auto& [criu, says] :
         std::vector<std::pair<std::string, std::string>>{{"/nonexistent/criu", "not installed"},
                                                          {"/bin/true", "not a static criu"},
                                                          {"/bin/busybox", "not a criu"}}) {
        if (!fs::exists(criu) && criu != "/nonexistent/criu") continue;
        ::setenv("CTRBENCH_CRIU", criu.c_str(), 1);
        const auto why = w.unsupported(caps, rootfs);
        EXPECT_NE(why.find(says), std::string::npos) << criu << ": " << why;
        EXPECT_TRUE(one_line(why)) << why;
        ContainerSpec s;
        EXPECT_FALSE(w.prepare(s, "1")) << criu;
    }
    if (old)
        ::setenv("CTRBENCH_CRIU", keep.c_str(), 1);
    else
        ::unsetenv("CTRBENCH_CRIU");
}

// `criu check` failing for real: the role's criu in a child whose bounding set lacks CAP_SYS_ADMIN and
// CAP_CHECKPOINT_RESTORE refuses to run. One line naming the cause, and the workload cannot run there.
TEST(CheckpointFaults, CriuCheckFailureIsOneLine) {
    auto criu = criu_for_containers();
    if (!criu) GTEST_SKIP() << "skipped: " << criu.error().message();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        for (int cap : {CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE})
            if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) ::_exit(2);
        // Another spelling of the same binary: criu_for_containers() looks at it afresh.
        ::setenv("CTRBENCH_CRIU", (criu->binary.parent_path().string() + "//criu").c_str(), 1);
        Capabilities caps;
        caps.checkpoint = true;
        caps.unconfined_seccomp = true;
        const auto why = CheckpointWorkload(false).unsupported(caps, kRootfs);
        ContainerSpec s;
        const bool refused = !CheckpointWorkload(false).prepare(s, "1");
        const auto said = why + (refused ? "" : " [prepare accepted]");
        ::_exit(::write(fds[1], said.data(), said.size()) == static_cast<ssize_t>(said.size()) ? 0 : 3);
    }
    ::close(fds[1]);
    std::string said;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) said.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child failed: " << status;
    std::cout << "criu check without its capabilities: " << said << "\n";
    EXPECT_TRUE(one_line(said)) << said;
    EXPECT_NE(said.find("criu check fails"), std::string::npos) << said;
    EXPECT_NE(said.find("CAP_SYS_ADMIN"), std::string::npos) << "names criu's reason: " << said;
    EXPECT_EQ(said.find("[prepare accepted]"), std::string::npos) << said;
}

// What a killed run left on the host's tmpfs (its images) goes with the sweep; a live run's stays.
TEST(CheckpointFaults, SweepRemovesOnlyDeadRunsImages) {
    const fs::path dead = "/dev/shm/ctrbench-999999999-checkpoint-1",
                   live = "/dev/shm/ctrbench-" + std::to_string(::getpid()) + "-checkpoint-1";
    fs::create_directories(dead / "x");
    fs::create_directories(live);
    auto removed = CheckpointWorkload::sweep_dead();
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(live));
    EXPECT_EQ(std::count_if(removed.begin(), removed.end(),
                            [&](const std::string& r) { return r.find(dead.string()) != std::string::npos; }),
              1);
    fs::remove_all(live);
}

}  // namespace
