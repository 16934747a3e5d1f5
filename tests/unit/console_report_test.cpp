// The summaries printed and written per unit: every figure is a median of per-run values over the
// same runs, and a whole is never smaller than its part.
#include "harness/console_report.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace ctrbench;

namespace {

RunRecord http_run(double create, double start, double exec, double response, double stop, double clean) {
    RunRecord r;
    r.workload = "http";
    r.create_ms = create;
    r.start_ms = start;
    r.exec_ms = exec;
    r.response_ms = response;
    r.stop_ms = stop;
    r.clean_ms = clean;
    r.value = 1;
    r.unit = "requests";
    return r;
}

double figure_after(const std::string& line, const std::string& label) {
    auto pos = line.find(label);
    EXPECT_NE(pos, std::string::npos) << line;
    return pos == std::string::npos ? -1 : std::stod(line.substr(pos + label.size()));
}

}  // namespace

// The case: a server that answers late in the run (response 5 ms) and a cheap stop/clean.
// The sum of the five timed phases without the response would be smaller than create..response.
TEST(UnitSummaryLine, HttpTotalIsTheMedianOfPerRunTotalsAndNeverBelowReady) {
    std::vector<RunRecord> recs = {http_run(2, 1, 1, 5, 0.2, 0.1), http_run(2.2, 1, 1.1, 5.5, 0.2, 0.1),
                                   http_run(1.9, 0.9, 1, 4.8, 0.3, 0.1)};
    auto line = unit_summary_line(recs);
    double ready = figure_after(line, "ready (create..first 200) median ");
    double total = figure_after(line, "all phases (create..clean) median ");
    EXPECT_NEAR(ready, 9.0, 0.01) << line;  // median of 9.0, 9.8, 8.6
    EXPECT_NEAR(total, 9.3, 0.01) << line;  // median of 9.3, 10.1, 8.9
    EXPECT_GE(total, ready) << line;
    EXPECT_NE(line.find("requests median 1.000"), std::string::npos) << "the figure carries its unit: " << line;
    EXPECT_EQ(line.find("polls"), std::string::npos) << line;
}

TEST(UnitSummaryLine, WorkloadWithoutResponseIsReadyAtExec) {
    RunRecord r = http_run(1, 1, 1, 0, 1, 1);
    r.response_ms.reset();
    r.workload = "boot";
    r.value.reset();
    auto line = unit_summary_line({r});
    EXPECT_NEAR(figure_after(line, "ready (create..exec) median "), 3.0, 1e-9) << line;
    EXPECT_NEAR(figure_after(line, "all phases (create..clean) median "), 5.0, 1e-9) << line;
}

TEST(UnitSummaryLine, SkippedAndFailedUnitsSaySo) {
    RunRecord s;
    s.status = RunStatus::Skipped;
    s.error = "no network";
    EXPECT_EQ(unit_summary_line({s}), "skipped: no network");
    RunRecord f = http_run(1, 1, 1, 1, 1, 1);
    f.status = RunStatus::Error;
    f.error = "boom";
    EXPECT_NE(unit_summary_line({f}).find("1 of 1 failed (error: boom)"), std::string::npos);
}

TEST(PhaseSamples, TotalIncludesTheResponseWait) {
    auto v = phase_samples({http_run(1, 1, 1, 10, 1, 1)}, "total");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_DOUBLE_EQ(v[0], 15.0);
}

// Off a terminal, progress is about ten lines at a steady step, not 1, 2, 4, 6, …
TEST(RunProgress, SteadyStepOffATerminal) {
    auto print = run_progress_printer(false, "lean boot");
    ::testing::internal::CaptureStderr();
    for (int k = 1; k <= 23; ++k) print(k, 23, false);
    auto out = ::testing::internal::GetCapturedStderr();
    std::vector<int> shown;
    for (auto pos = out.find("run "); pos != std::string::npos; pos = out.find("run ", pos + 1))
        shown.push_back(std::stoi(out.substr(pos + 4)));
    EXPECT_EQ(shown, (std::vector<int>{3, 6, 9, 12, 15, 18, 21, 23})) << out;
    EXPECT_NE(out.find("runs/s"), std::string::npos) << "a rate: " << out;
}

TEST(DatasetProgress, SaysHowFarAlongOffATerminal) {
    auto print = dataset_progress_printer(false);
    ::testing::internal::CaptureStderr();
    for (double f : {0.0, 0.1, 0.3, 0.55, 0.8, 1.0}) print("files-100000", f);
    auto out = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("generating dataset files-100000"), std::string::npos) << out;
    EXPECT_NE(out.find("generating files-100000:  30%"), std::string::npos) << out;
    EXPECT_NE(out.find("generating files-100000:  55%"), std::string::npos) << out;
    EXPECT_NE(out.find("generated dataset files-100000 in"), std::string::npos) << out;
}
