// The runner with a fake driver and workloads (unit tests only): records per run, errors as rows,
// the run going on, and phases recorded.
#include "harness/runner.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {

struct FakeContainer : Container {
    ExecResult result;
    std::vector<std::string>* seen = nullptr;
    Status start() override { return {}; }
    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds) override {
        if (seen) *seen = argv;
        return result;
    }
    Result<std::string> host_end() override { return std::string("10.213.0.1"); }
    Status stop() override { return {}; }
    Status clean() override { return {}; }
};

struct FakeDriver : Driver {
    ExecResult result;
    int creates = 0;
    Capabilities caps;
    std::vector<std::string> seen;
    std::string name() const override { return "fake"; }
    std::string description() const override { return "fake"; }
    Capabilities capabilities() const override { return caps; }
    Probe probe() override { return {true, "", {}, "fakert", "fakefs"}; }
    Result<std::unique_ptr<Container>> create(const ContainerSpec&) override {
        ++creates;
        auto c = std::make_unique<FakeContainer>();
        c->result = result;
        c->seen = &seen;
        return std::unique_ptr<Container>(std::move(c));
    }
};

struct FakeWorkload : Workload {
    bool data_fails = false;
    std::string name() const override { return "fake-io"; }
    std::string description() const override { return ""; }
    Result<std::vector<BindMount>> data(const std::string&, const fs::path&, const Progress&) const override {
        if (data_fails) return fail_msg("cannot generate the dataset: disk full");
        return std::vector<BindMount>{};
    }
    std::vector<std::string> command(const std::string&) const override { return {"/bin/true"}; }
    Result<Outcome> check(const ExecResult& r, const std::string&) const override {
        if (auto s = expect_success(r); !s) return fail(std::move(s.error()));
        return Outcome{42, "rows", ""};
    }
};

// A network workload: needs the driver's own network, pings "{host}", waits for a response.
struct FakeNetWorkload : FakeWorkload {
    bool respond_ok = true;
    mutable int waits = 0;
    std::string name() const override { return "fake-net"; }
    std::string unsupported(const Capabilities& caps, const fs::path&) const override {
        return caps.own_network ? "" : "no network of its own";
    }
    std::vector<std::string> command(const std::string&) const override {
        return {"ping", "-c", "1", "{host}", "x{host}y"};
    }
    bool awaits_response() const override { return true; }
    Result<Outcome> await_response(Container&, const std::string&, std::chrono::milliseconds) const override {
        ++waits;
        if (!respond_ok) return fail_msg("the server did not answer 200 within 5 ms");
        return Outcome{1, "polls", "first 200 after 1 poll"};
    }
};

// A workload measuring whole runs itself.
struct FakeWholeWorkload : FakeWorkload {
    std::string name() const override { return "fake-whole"; }
    bool measures_itself() const override { return true; }
    Result<Outcome> measure(Driver& d, const ContainerSpec&, const std::string&) const override {
        (void)d.create({});
        return Outcome{123.5, "containers/s", "7 containers"};
    }
};

struct RunnerTest : ::testing::Test {
    fs::path dir = fs::temp_directory_path() / ("ctrbench-runner-" + std::to_string(::getpid()));
    RunOptions opts;
    void SetUp() override {
        fs::remove_all(dir);
        fs::create_directories(dir / "images/minimal/rootfs/bin");
        opts.images_dir = dir / "images";
        opts.runs = 4;
        opts.warmup = 1;
        opts.run_id = "r";
    }
    void TearDown() override { fs::remove_all(dir); }
};

}  // namespace

TEST_F(RunnerTest, EveryRunIsARecordWithItsPhasesAndFigure) {
    FakeDriver d;
    d.result.exit_code = 0;
    FakeWorkload w;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 5u);
    EXPECT_TRUE((*recs)[0].warmup);
    for (const auto& r : *recs) {
        EXPECT_EQ(r.status, RunStatus::Ok);
        EXPECT_TRUE(r.create_ms && r.start_ms && r.exec_ms && r.stop_ms && r.clean_ms);
        EXPECT_EQ(r.value, 42);
        EXPECT_EQ(r.unit, "rows");
        EXPECT_EQ(r.candidate.name(), "fake-fakert-fakefs-minimal-" + r.candidate.cgroup + "-rootful");
    }
}

TEST_F(RunnerTest, AFailedCheckIsAnErrorRowAndTheRunStopsAfterThreeInARow) {
    FakeDriver d;
    d.result.exit_code = 1;
    d.result.err = "no such table\n";
    FakeWorkload w;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 3u) << "the same failure three times in a row ends the workload";
    EXPECT_EQ((*recs)[0].status, RunStatus::Error);
    EXPECT_EQ((*recs)[0].error, "command exit 1: no such table");
}

TEST_F(RunnerTest, ADatasetThatCannotBeMadeIsOneErrorRow) {
    FakeDriver d;
    FakeWorkload w;
    w.data_fails = true;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "100", opts, *sink, {});
    ASSERT_TRUE(recs) << "not fatal: the caller goes on with the next parameter or workload";
    ASSERT_EQ(recs->size(), 1u);
    EXPECT_EQ((*recs)[0].status, RunStatus::Error);
    EXPECT_NE((*recs)[0].error.find("disk full"), std::string::npos);
    EXPECT_EQ(d.creates, 0);
    std::ifstream in(dir / "r.csv");
    std::string header, row;
    std::getline(in, header);
    std::getline(in, row);
    EXPECT_NE(row.find("disk full"), std::string::npos) << "the error row is in the file";
}

TEST_F(RunnerTest, TimeoutAndOomAreTheirOwnStatus) {
    FakeDriver d;
    FakeWorkload w;
    opts.runs = 1;
    opts.warmup = 0;
    auto sink = CsvSink::open(dir / "r.csv");
    d.result = {};
    d.result.timed_out = true;
    EXPECT_EQ((*run_workload(d, d.probe(), w, "", opts, *sink, {}))[0].status, RunStatus::Timeout);
    d.result = {};
    d.result.signal = 9;
    d.result.oom_killed = true;
    EXPECT_EQ((*run_workload(d, d.probe(), w, "", opts, *sink, {}))[0].status, RunStatus::Oom);
}

TEST_F(RunnerTest, AWorkloadTheDriverCannotRunIsOneSkippedRowWithTheReason) {
    FakeDriver d;
    FakeNetWorkload w;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 1u);
    EXPECT_EQ((*recs)[0].status, RunStatus::Skipped);
    EXPECT_EQ((*recs)[0].error, "fake with fakert cannot run fake-net: no network of its own");
    EXPECT_FALSE((*recs)[0].create_ms);
    EXPECT_EQ(d.creates, 0);  // nothing was created, nothing faked
}

TEST_F(RunnerTest, HostPlaceholderAndResponseAreRecorded) {
    FakeDriver d;
    d.caps.own_network = true;
    d.result.exit_code = 0;
    FakeNetWorkload w;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 5u);
    EXPECT_EQ(d.seen, (std::vector<std::string>{"ping", "-c", "1", "10.213.0.1", "x10.213.0.1y"}));
    for (const auto& r : *recs) {
        EXPECT_EQ(r.status, RunStatus::Ok) << r.error;
        ASSERT_TRUE(r.response_ms);
        EXPECT_GE(*r.response_ms, 0);
        EXPECT_EQ(r.unit, "polls");
        EXPECT_EQ(r.detail, "first 200 after 1 poll");
    }
    EXPECT_EQ(w.waits, 5);
}

TEST_F(RunnerTest, NoResponseIsAnErrorRowAndTheContainerIsStillCleaned) {
    FakeDriver d;
    d.caps.own_network = true;
    d.result.exit_code = 0;
    FakeNetWorkload w;
    w.respond_ok = false;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 3u);  // three errors in a row end it
    for (const auto& r : *recs) {
        EXPECT_EQ(r.status, RunStatus::Error);
        EXPECT_EQ(r.error, "the server did not answer 200 within 5 ms");
        EXPECT_FALSE(r.response_ms);
        EXPECT_TRUE(r.stop_ms && r.clean_ms);
    }
}

TEST_F(RunnerTest, WholeRunWorkloadsRecordTheirFigureWithoutPhases) {
    FakeDriver d;
    FakeWholeWorkload w;
    auto sink = CsvSink::open(dir / "r.csv");
    auto recs = run_workload(d, d.probe(), w, "2", opts, *sink, {});
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 5u);
    for (const auto& r : *recs) {
        EXPECT_EQ(r.status, RunStatus::Ok);
        EXPECT_FALSE(r.create_ms || r.exec_ms);
        EXPECT_EQ(r.value, 123.5);
        EXPECT_EQ(r.unit, "containers/s");
    }
}
