#include "harness/result_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/matrix.h"

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
    auto d = fs::temp_directory_path() / ("ctrbench-unit-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// Splits one CSV line, honouring quotes.
std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool q = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (q && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
            out.back() += '"', ++i;
        else if (c == '"')
            q = !q;
        else if (c == ',' && !q)
            out.emplace_back();
        else
            out.back() += c;
    }
    return out;
}

RunRecord sample() {
    RunRecord r;
    r.run_id = "id";
    r.candidate = {"lean", "lean", "overlay", "minimal", "v1", "rootful"};
    r.workload = "boot";
    r.create_ms = 1.5;
    r.status = RunStatus::Error;
    r.error = "a, \"quoted\"\nthing";
    return r;
}

}  // namespace

TEST(Csv, EscapesCommasQuotesNewlines) {
    EXPECT_EQ(csv_escape("plain"), "plain");
    EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_escape("two\nlines"), "\"two lines\"");
}

TEST(Csv, RowHasEveryColumnOfTheDesign) {
    EXPECT_EQ(csv_columns().size(), 25u);
    auto f = fields(csv_row(sample()));
    ASSERT_EQ(f.size(), 25u);
    EXPECT_EQ(f[24], "");  // probe: empty on a run's own row
    EXPECT_EQ(f[3], "lean-lean-overlay-minimal-v1-rootful");
    EXPECT_EQ(f[14], "1.5000");  // create_ms
    EXPECT_EQ(f[15], "");        // start_ms: the phase did not happen
    EXPECT_EQ(f[22], "error");
    EXPECT_EQ(f[23], "a, \"quoted\" thing");
}

TEST(Csv, EachRowIsOnDiskBeforeWriteReturns) {
    auto dir = temp_dir();
    auto sink = CsvSink::open(dir / "r.csv");
    ASSERT_TRUE(sink) << sink.error().message();
    ASSERT_TRUE(sink->write(sample()));
    auto l = lines(dir / "r.csv");  // read while the sink is still open
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0], csv_header());
    fs::remove_all(dir);
}

// The isolation workload's run: its own row, then a row per probe (value 1 = blocked, 0 = allowed,
// skipped when not tried), which read back as the run's probes and never as runs of their own.
TEST(Csv, ARunsProbesAreARowEachAfterIt) {
    auto dir = temp_dir();
    RunRecord run = sample();
    run.workload = "isolation";
    run.status = RunStatus::Ok;
    run.error.clear();
    run.iteration = 1;
    run.probes = {{"files/host-path", ProbeResult::Verdict::Blocked, "ENOENT"},
                  {"privilege/host-root", ProbeResult::Verdict::Allowed, "uid 0 is uid 0"},
                  {"resources/disk", ProbeResult::Verdict::Untried, "no quota, would fill the disk"}};
    {
        auto sink = CsvSink::open(dir / "r.csv");
        ASSERT_TRUE(sink->write(run));
    }
    auto rows = read_csv(dir / "r.csv");
    ASSERT_TRUE(rows) << rows.error().message();
    ASSERT_EQ(rows->size(), 4u);
    EXPECT_FALSE(probe_from_row((*rows)[0]));  // the run's own row
    EXPECT_EQ((*rows)[1].at("probe"), "files/host-path");
    EXPECT_EQ((*rows)[1].at("value"), "1.0000");
    EXPECT_EQ((*rows)[1].at("create_ms"), "");  // the phases are the run's, on its row only
    EXPECT_EQ((*rows)[2].at("value"), "0.0000");
    EXPECT_EQ((*rows)[3].at("status"), "skipped");
    EXPECT_EQ((*rows)[3].at("value"), "");  // never counted as blocked
    auto untried = probe_from_row((*rows)[3]);
    ASSERT_TRUE(untried);
    EXPECT_EQ(untried->verdict, ProbeResult::Verdict::Untried);
    EXPECT_EQ(untried->detail, "no quota, would fill the disk");
    EXPECT_EQ(probe_from_row((*rows)[2])->verdict, ProbeResult::Verdict::Allowed);
    for (const auto& r : *rows) EXPECT_EQ(r.at("iteration"), "1");
    // A resume counts the run once, not once per probe, and never takes it for skipped.
    auto progress = progress_from_rows(*rows);
    ASSERT_EQ(progress.size(), 1u);
    EXPECT_EQ(progress.begin()->second.runs, 1);
    EXPECT_FALSE(progress.begin()->second.skipped);
    fs::remove_all(dir);
}

TEST(Csv, AppendsToAFileWithTheSameHeader) {
    auto dir = temp_dir();
    {
        auto sink = CsvSink::open(dir / "r.csv");
        ASSERT_TRUE(sink->write(sample()));
    }
    {
        auto sink = CsvSink::open(dir / "r.csv");
        ASSERT_TRUE(sink);
        ASSERT_TRUE(sink->write(sample()));
    }
    EXPECT_EQ(lines(dir / "r.csv").size(), 3u);
    fs::remove_all(dir);
}

TEST(Csv, RefusesAFileWithOtherColumns) {
    auto dir = temp_dir();
    std::ofstream(dir / "other.csv") << "a,b,c\n1,2,3\n";
    auto sink = CsvSink::open(dir / "other.csv");
    ASSERT_FALSE(sink);
    EXPECT_NE(sink.error().message().find("exists with other columns"), std::string::npos);
    EXPECT_EQ(lines(dir / "other.csv").size(), 2u);  // untouched
    fs::remove_all(dir);
}

TEST(Json, WrittenWholeBesideTheCsv) {
    auto dir = temp_dir();
    EXPECT_EQ(metadata_path(dir / "run.csv"), dir / "run.json");
    ASSERT_TRUE(write_json(dir / "run.json", {{"k", 1}}));
    std::ifstream in(dir / "run.json");
    auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["k"], 1);
    EXPECT_FALSE(fs::exists(dir / "run.json.tmp"));
    fs::remove_all(dir);
}
