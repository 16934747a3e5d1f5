// The service workloads through the runner, on the real engines with the real CRIU: every parameter of
// each (python and jvm, cold and restored; pools of 0 and 2) on every driver whose capabilities say it
// can run it; the answer's body is checked by the workload, the figures are there, the service is the
// container's (the host's own port stays closed), the faults are one line each, nothing is left.
#include "workloads/service.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "harness/result_sink.h"
#include "harness/runner.h"
#include "tests/integration/leftovers.h"
#include "workloads/checkpoint.h"

using namespace ctrbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path kImages = fs::path(CTRBENCH_IMAGES_DIR);

bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos;
}

// Every driver and runtime: the cold service runs wherever the driver gives a network and holds the
// image, the restored ones where it can restore (its Capabilities); the others are skipped rows.
std::vector<std::string> every_driver() {
    std::vector<std::string> out;
    auto reg = builtin_drivers();
    for (const auto& name : reg.names()) {
        auto runtimes = reg.runtimes(name);
        if (runtimes.empty()) runtimes = {""};
        for (const auto& rt : runtimes) out.push_back(rt.empty() ? name : name + ":" + rt);
    }
    return out;
}

class ServiceTest : public ::testing::TestWithParam<std::string> {
protected:
    void set_up(const std::string& driver) {
        const auto colon = driver.find(':');
        driver_ =
            builtin_drivers().make(driver.substr(0, colon), colon == std::string::npos ? "" : driver.substr(colon + 1));
        ASSERT_TRUE(driver_);
        probe_ = driver_->probe();
        if (!probe_.available) GTEST_SKIP() << "skipped: " << probe_.reason;
        if (!fs::is_directory(kImages / "service" / "rootfs" / "opt"))
            GTEST_SKIP() << "skipped: the service image is not built (cmake --build build --target image-service)";
        before_ = hostcheck::snapshot();
        dir_ = fs::temp_directory_path() / ("ctrbench-test-" + std::to_string(::getpid()) + "-service");
        fs::create_directories(dir_);
        opts_.images_dir = kImages;
        opts_.data_dir = dir_;
        opts_.warmup = 0;
    }
    void TearDown() override {
        if (IsSkipped() || !driver_) return;
        driver_.reset();
        fs::remove_all(dir_);
        EXPECT_EQ(hostcheck::leftovers_after(before_, 5000), "");
    }
    std::vector<RunRecord> run(const Workload& w, const std::string& param) {
        auto sink = CsvSink::open(dir_ / (w.name() + "-" + param + ".csv"));
        EXPECT_TRUE(sink) << sink.error().message();
        if (!sink) return {};
        auto recs = run_workload(*driver_, probe_, w, param, opts_, *sink, {});
        EXPECT_TRUE(recs) << recs.error().message();
        return recs ? *recs : std::vector<RunRecord>{};
    }
    std::unique_ptr<Driver> driver_;
    Probe probe_;
    RunOptions opts_;
    fs::path dir_;
    hostcheck::HostSnapshot before_;
};

// Nothing answers on the host's own port 8080: the service the runs reached was the container's.
bool host_port_closed() {
    httplib::Client cli("127.0.0.1", ServiceWorkload::kPort);
    cli.set_connection_timeout(200ms);
    return !cli.Get("/?key=1");
}

// Every parameter of the three workloads: the cold boot, the restore (after a dump once per
// parameter), the pool; "ready_ms" from create (or the request) to the first correct answer.
TEST_P(ServiceTest, EveryParameterAnswersWithTheRightBody) {
    set_up(GetParam());
    if (IsSkipped()) return;
    // Twice from one checkpoint where the restore is CRIU's in the container (cheap); once elsewhere
    // (an engine's restore, a cold boot: seconds each).
    opts_.runs = driver_->capabilities().checkpoint ? 2 : 1;
    std::map<std::string, double> ready;  // "service python" -> ms
    for (auto mode : {ServiceWorkload::Mode::Cold, ServiceWorkload::Mode::Restored, ServiceWorkload::Mode::Pool}) {
        const ServiceWorkload w(mode);
        for (const auto& param : w.param_values()) {
            SCOPED_TRACE(w.name() + " " + param);
            auto recs = run(w, param);
            // Skipped: what the workload says, or an image larger than the driver holds (microvm's initramfs).
            const auto caps = driver_->capabilities();
            auto why = w.unsupported(caps, kImages / "service" / "rootfs");
            if (caps.max_image_bytes && fs::file_size(kImages / "service" / "service.tar") > caps.max_image_bytes)
                why = "is larger than it can hold";
            if (!why.empty()) {
                ASSERT_EQ(recs.size(), 1u);
                EXPECT_EQ(recs[0].status, RunStatus::Skipped);
                EXPECT_NE(recs[0].error.find(why), std::string::npos) << recs[0].error;
                std::cout << GetParam() << " " << w.name() << " " << param << ": skipped: " << why << "\n";
                continue;
            }
            ASSERT_EQ(recs.size(), static_cast<std::size_t>(opts_.runs));
            double sum = 0;
            for (const auto& r : recs) {
                ASSERT_EQ(r.status, RunStatus::Ok) << r.error;
                ASSERT_TRUE(r.figures.count("ready_ms")) << r.detail;
                EXPECT_GT(r.figures.at("ready_ms"), 0);
                sum += r.figures.at("ready_ms");
                if (mode != ServiceWorkload::Mode::Cold) {
                    EXPECT_GT(r.figures.at("dump_ms"), 0);
                }
                if (mode == ServiceWorkload::Mode::Pool && param != "0") {
                    EXPECT_GT(r.figures.at("refill_ms"), 0);
                }
            }
            ready[w.name() + " " + param] = sum / opts_.runs;
            std::cout << GetParam() << " " << w.name() << " " << param << ": ready in " << sum / opts_.runs << " ms ("
                      << recs[0].detail << ")\n";
            EXPECT_TRUE(host_port_closed()) << "the host itself answers on port " << ServiceWorkload::kPort;
            for (const auto& e : fs::directory_iterator("/dev/shm"))
                EXPECT_EQ(e.path().filename().string().find("-service-"), std::string::npos)
                    << e.path() << ": the checkpoint outlives the parameter's runs";
        }
    }
    // A restored JVM answers sooner than a cold one (the figures' sense; the goals are the benchmark's).
    if (ready.count("service-restored jvm")) {
        EXPECT_LT(ready["service-restored jvm"], ready["service jvm"]);
    }
}

INSTANTIATE_TEST_SUITE_P(Drivers, ServiceTest, ::testing::ValuesIn(every_driver()), [](const auto& info) {
    auto name = info.param;
    std::replace(name.begin(), name.end(), ':', '_');
    return name;
});

// A service that never becomes ready (here: the JVM, given less time than its start-up takes) is one
// line naming it, the run is an error row, and nothing of it is left.
TEST_F(ServiceTest, ServiceThatNeverBecomesReadyIsOneLine) {
    set_up("lean");
    if (IsSkipped()) return;
    opts_.runs = 1;
    opts_.timeout = 1500ms;
    auto recs = run(ServiceWorkload(ServiceWorkload::Mode::Cold), "jvm");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].status, RunStatus::Error);
    EXPECT_TRUE(one_line(recs[0].error)) << recs[0].error;
    EXPECT_NE(recs[0].error.find("never became ready"), std::string::npos) << recs[0].error;
    EXPECT_TRUE(recs[0].stop_ms && recs[0].clean_ms) << "the container was not stopped and cleaned";
}

// The checks of a parameter, an image without the services, a driver without a restore path: one line
// each, before any container.
TEST(ServiceFaults, BadInputIsOneLine) {
    const ServiceWorkload cold(ServiceWorkload::Mode::Cold), pool(ServiceWorkload::Mode::Pool);
    ContainerSpec s;
    auto bad = cold.prepare(s, "ruby");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(one_line(bad.error().message())) << bad.error().message();
    EXPECT_FALSE(pool.accepts("9"));
    EXPECT_TRUE(pool.accepts("0"));
    Capabilities caps;
    caps.own_network = true;
    const auto minimal = kImages / "minimal" / "rootfs";
    EXPECT_NE(cold.unsupported(caps, minimal).find("the image has no /opt/ctrbench/service"), std::string::npos);
    const auto service = kImages / "service" / "rootfs";
    if (fs::is_directory(service / "opt")) {
        EXPECT_EQ(cold.unsupported(caps, service), "");
        EXPECT_NE(ServiceWorkload(ServiceWorkload::Mode::Restored).unsupported(caps, service).find("no CRIU path"),
                  std::string::npos);
        caps.engine_checkpoint = true;
        EXPECT_NE(pool.unsupported(caps, service).find("pre-started"), std::string::npos);
    }
    caps.own_network = false;
    EXPECT_NE(cold.unsupported(caps, service).find("network"), std::string::npos);
    // Nothing listens: never ready, in one line, within the deadline.
    const auto t0 = std::chrono::steady_clock::now();
    auto none = ServiceWorkload::first_correct_answer("127.0.0.1:9", 300ms);
    ASSERT_FALSE(none);
    EXPECT_TRUE(one_line(none.error().message())) << none.error().message();
    EXPECT_NE(none.error().message().find("never became ready"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
