// The network workloads (http, ping) and throughput on real drivers, through the harness's runner:
// the server answered with its page, every ping came back, containers were counted; a driver
// without a network of its own is skipped with the reason; a server that never answers is an
// error row and the run goes on; the link reaches the host end only; nothing is left behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "harness/runner.h"
#include "tests/integration/leftovers.h"
#include "workloads/net.h"
#include "workloads/throughput.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Case {
    std::string driver, runtime;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.driver << (c.runtime.empty() ? "" : "/" + c.runtime);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    return info.param.driver + (info.param.runtime.empty() ? "" : "_" + info.param.runtime);
}

class NetTest : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override {
        driver_ = builtin_drivers().make(GetParam().driver, GetParam().runtime);
        ASSERT_TRUE(driver_);
        probe_ = driver_->probe();
        if (!probe_.available) GTEST_SKIP() << "skipped: " << probe_.reason;
        dir_ = fs::temp_directory_path() / ("ctrbench-net-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        opts_.images_dir = CTRBENCH_IMAGES_DIR;
        opts_.data_dir = CTRBENCH_DATA_DIR;
        // A VM's boot takes seconds under TCG: its cases run once (the time rule).
        opts_.runs = driver_->capabilities().vm ? 1 : 2;
        opts_.warmup = 0;
        opts_.timeout = 30s;
        opts_.run_id = "test";
        // What an engine sets up once, on its first container with a network, and keeps by design
        // (podman's cni-podman0 bridge and the /run/netns mount) is not a test's leftover: one
        // container per driver first, then the snapshot.
        static std::set<std::string> warmed;
        if (warmed.insert(GetParam().driver + "/" + GetParam().runtime).second) {
            auto r = exec_on_link({"/bin/true"});
            ASSERT_TRUE(r) << "warm-up container: " << r.error().message();
        }
        before_ = hostcheck::snapshot();
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);  // a case that skips itself (VMs) made it too
        if (IsSkipped()) return;
        driver_.reset();
        EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "");
    }
    std::vector<RunRecord> run(const Workload& w, const std::string& param) {
        auto sink = CsvSink::open(dir_ / "r.csv");
        EXPECT_TRUE(sink) << sink.error().message();
        auto recs = run_workload(*driver_, probe_, w, param, opts_, *sink, {});
        EXPECT_TRUE(recs) << recs.error().message();
        return recs ? *recs : std::vector<RunRecord>{};
    }
    // One container with its own link, running `argv`.
    Result<ExecResult> exec_on_link(std::vector<std::string> argv, std::vector<std::string> caps = {}) {
        ContainerSpec s;
        s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-net";
        s.rootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";
        s.network = NetworkMode::Own;
        s.add_caps = std::move(caps);
        if (auto p = driver_->prepare(s); !p) return fail(std::move(p.error()));
        auto c = driver_->create(s);
        if (!c) return fail(std::move(c.error()));
        auto host = (*c)->host_end();
        Result<ExecResult> r = fail_msg("not run");
        if (auto st = (*c)->start(); !st)
            r = fail(std::move(st.error()));
        else if (!host && !(host = (*c)->host_end()))
            r = fail(std::move(host.error()));
        else {
            for (auto& a : argv)
                if (a == "{host}") a = *host;
            r = (*c)->exec(argv, 30s);
        }
        (void)(*c)->stop();
        (void)(*c)->clean();
        return r;
    }
    std::unique_ptr<Driver> driver_;
    Probe probe_;
    fs::path dir_;
    RunOptions opts_;
    hostcheck::HostSnapshot before_;
};

}  // namespace

TEST_P(NetTest, HttpServerAnswersWithItsPage) {
    HttpWorkload w;
    auto recs = run(w, "");
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(opts_.runs));
    for (const auto& r : recs) {
        ASSERT_EQ(r.status, RunStatus::Ok) << r.error;
        ASSERT_TRUE(r.response_ms && r.create_ms && r.start_ms && r.exec_ms);
        EXPECT_GT(*r.response_ms, 0);
        EXPECT_GE(r.value.value_or(0), 1);  // polls until the 200 with the page's body
        EXPECT_NE(r.detail.find("first 200 from "), std::string::npos) << r.detail;
    }
}

TEST_P(NetTest, EveryPingToTheHostEndComesBack) {
    PingWorkload w;
    auto recs = run(w, "3");
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(opts_.runs));
    for (const auto& r : recs) {
        ASSERT_EQ(r.status, RunStatus::Ok) << r.error;
        EXPECT_EQ(r.unit, "ms");
        EXPECT_GT(r.value.value_or(0), 0);
        EXPECT_NE(r.detail.find("3/3 replies"), std::string::npos) << r.detail;
    }
}

TEST_P(NetTest, WithoutNetRawGrantedPingIsRefused) {
    auto r = exec_on_link({"ping", "-c", "1", "-W", "1", "{host}"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NE(r->exit_code, 0) << r->out;  // no raw socket: the common set has no NET_RAW
    auto ok = exec_on_link({"ping", "-c", "1", "-W", "2", "{host}"}, {"NET_RAW"});
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->exit_code, 0) << ok->err;
}

TEST_P(NetTest, AServerThatNeverAnswersIsAnErrorRowAndTheRunGoesOn) {
    // The runner's error path, the same for every driver: not worth three VM boots more.
    if (driver_->capabilities().vm) GTEST_SKIP() << "skipped: a VM's boot outlasts the 1 s timeout; runner code";
    struct Silent : Workload {
        HttpWorkload http;
        std::string name() const override { return "http"; }
        std::string description() const override { return ""; }
        Status prepare(ContainerSpec& s, const std::string& p) const override { return http.prepare(s, p); }
        std::vector<std::string> command(const std::string&) const override { return {"/bin/true"}; }  // no server
        Result<Outcome> check(const ExecResult& r, const std::string& p) const override { return http.check(r, p); }
        bool awaits_response() const override { return true; }
        Result<Outcome> await_response(Container& c, const std::string& p, std::chrono::milliseconds d) const override {
            return http.await_response(c, p, d);
        }
    } w;
    opts_.timeout = 1s;
    opts_.runs = 4;
    auto recs = run(w, "");
    ASSERT_EQ(recs.size(), 3u);  // three errors in a row end the workload; the caller goes on
    for (const auto& r : recs) {
        EXPECT_EQ(r.status, RunStatus::Error);
        EXPECT_NE(r.error.find("did not answer 200 within 1000 ms"), std::string::npos) << r.error;
        EXPECT_EQ(r.error.find('\n'), std::string::npos);
        EXPECT_TRUE(r.stop_ms && r.clean_ms);  // the container was still stopped and removed
    }
}

TEST_P(NetTest, ThroughputCountsContainers) {
    if (driver_->capabilities().vm) GTEST_SKIP() << "skipped: concurrent VM boots under TCG: the matrix runs it";
    ThroughputWorkload w;
    opts_.runs = 1;
    auto recs = run(w, "2");
    ASSERT_EQ(recs.size(), 1u);
    ASSERT_EQ(recs[0].status, RunStatus::Ok) << recs[0].error;
    EXPECT_EQ(recs[0].unit, "containers/s");
    EXPECT_GT(recs[0].value.value_or(0), 0);
    EXPECT_NE(recs[0].detail.find("by 2 workers"), std::string::npos) << recs[0].detail;
}

INSTANTIATE_TEST_SUITE_P(Net, NetTest,
                         ::testing::Values(Case{"lean", ""}, Case{"crun", ""}, Case{"docker", "runc"},
                                           Case{"podman", "crun"}, Case{"lxc", ""}, Case{"lxd", ""},
                                           Case{"containerd", "runc"}, Case{"microvm", ""}),
                         case_name);

// The links lean, the OCI runtimes and the microvm's tap device make reach the host end and nothing
// else: no default route.
class LinkTest : public NetTest {};

TEST_P(LinkTest, TheLinkReachesOnlyTheHostEnd) {
    auto r = exec_on_link({"cat", "/proc/net/route"});
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->exit_code, 0) << r->err;
    // Iface Destination Gateway ...: one route, the /30 of the link on eth0; none to 00000000 (default).
    std::istringstream routes(r->out);
    std::string line, iface, dest;
    std::getline(routes, line);  // the header
    int n = 0;
    while (routes >> iface >> dest && std::getline(routes, line)) {
        ++n;
        EXPECT_EQ(iface, "eth0") << r->out;
        EXPECT_NE(dest, "00000000") << "a default route:\n" << r->out;
    }
    EXPECT_EQ(n, 1) << r->out;
    auto links = exec_on_link({"cat", "/proc/net/dev"});
    ASSERT_TRUE(links) << links.error().message();
    int ifaces = 0;
    for (std::size_t pos = 0; (pos = links->out.find(':', pos)) != std::string::npos; ++pos) ++ifaces;
    EXPECT_EQ(ifaces, 2) << links->out;  // lo and eth0, nothing of the host's
    EXPECT_NE(links->out.find("eth0:"), std::string::npos);
    EXPECT_NE(links->out.find("lo:"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Net, LinkTest, ::testing::Values(Case{"lean", ""}, Case{"runc", ""}, Case{"microvm", ""}),
                         case_name);

// Drivers without a network of their own report the network workloads skipped, with the reason.
TEST(NetSkip, RunscSkipsHttpAndPingWithTheReason) {
    auto d = builtin_drivers().make("runsc");
    auto probe = d->probe();
    if (!probe.available) GTEST_SKIP() << "skipped: " << probe.reason;
    auto dir = fs::temp_directory_path() / ("ctrbench-netskip-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    RunOptions o;
    o.images_dir = CTRBENCH_IMAGES_DIR;
    o.data_dir = CTRBENCH_DATA_DIR;
    o.runs = 2;
    auto sink = CsvSink::open(dir / "r.csv");
    ASSERT_TRUE(sink);
    for (const Workload* w : std::initializer_list<const Workload*>{new HttpWorkload, new PingWorkload}) {
        std::unique_ptr<const Workload> own(w);
        auto param = w->param_values().empty() ? std::string() : w->param_values().front();
        auto recs = run_workload(*d, probe, *w, param, o, *sink, {});
        ASSERT_TRUE(recs);
        ASSERT_EQ(recs->size(), 1u);
        EXPECT_EQ((*recs)[0].status, RunStatus::Skipped);
        // What to act on, no enum names: runsc's own --network=none is the cause.
        EXPECT_EQ((*recs)[0].error,
                  "runsc cannot run " + w->name() +
                      ": runsc runs with --network=none (gVisor's sandbox network fails on this kind of host)");
    }
    fs::remove_all(dir);
}

// A full writable layer inside the container is a one-line error naming it (the layer in RAM,
// --storage tmpfs, of 1 MiB).
TEST(DiskFull, TarExtractIntoAFullLayerIsAClearError) {
    for (const char* name : {"lean", "crun"}) {
        auto d = builtin_drivers().make(name);
        ASSERT_TRUE(d->use_storage("tmpfs"));
        if (auto p = d->probe(); !p.available) GTEST_SKIP() << "skipped: " << name << ": " << p.reason;
        auto before = hostcheck::snapshot();
        auto w = builtin_workloads();
        const Workload* tar = w.find("tar-extract");
        auto mounts = tar->data("1000", CTRBENCH_DATA_DIR, {});
        ASSERT_TRUE(mounts) << mounts.error().message();
        ContainerSpec s;
        s.name = "ctrbench-test-" + std::to_string(::getpid()) + "-full";
        s.rootfs = fs::path(CTRBENCH_IMAGES_DIR) / "minimal" / "rootfs";
        s.mounts = *mounts;
        s.limits.writable_bytes = 1 << 20;  // 1 MiB for 4 MB of files
        {
            auto c = d->create(s);
            ASSERT_TRUE(c) << c.error().message();
            ASSERT_TRUE((*c)->start());
            auto r = (*c)->exec(tar->command("1000"), 60s);
            ASSERT_TRUE(r) << r.error().message();
            auto out = tar->check(*r, "1000");
            ASSERT_FALSE(out) << name;
            EXPECT_NE(out.error().message().find("No space left on device"), std::string::npos)
                << out.error().message();
            EXPECT_EQ(out.error().message().find('\n'), std::string::npos);
            EXPECT_TRUE((*c)->stop());
            EXPECT_TRUE((*c)->clean());
        }
        d.reset();
        EXPECT_EQ(hostcheck::leftovers_after(before, 5000), "") << name;
    }
}
