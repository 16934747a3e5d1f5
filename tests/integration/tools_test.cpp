// The command-line tools as a user runs them: exit codes, one-line errors, the seed's output format,
// results files, Ctrl-C, and nothing left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/leftovers.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kRootfs = std::string(CTRBENCH_IMAGES_DIR) + "/minimal/rootfs";

struct Ran {
    int code = -1;
    std::string out, err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

int lines_in(const fs::path& file) {
    std::ifstream in(file);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

// Whether a process whose command line starts with `name` (its path's last part) runs.
bool process_running(const std::string& name) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::ifstream cl(e.path() / "cmdline");
        std::string argv0;
        if (std::getline(cl, argv0, '\0') && fs::path(argv0).filename() == name) return true;
    }
    return false;
}

// Runs argv with stdout/stderr to files; with `interrupt_when`, sends SIGINT once it holds (checked
// every 10 ms, at most 60 s): a condition, not a fixed sleep, so a slow host does not change the test.
Ran run(std::vector<std::string> argv, const std::function<bool()>& interrupt_when = {}) {
    static int n = 0;
    auto base =
        fs::temp_directory_path() / ("ctrbench-tools-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (base.string() + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (base.string() + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid;
    EXPECT_EQ(posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    if (interrupt_when) {
        for (int i = 0; i < 6000 && !interrupt_when(); ++i) std::this_thread::sleep_for(10ms);
        ::kill(pid, SIGINT);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    Ran r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(base.string() + ".out");
    r.err = slurp(base.string() + ".err");
    fs::remove(base.string() + ".out");
    fs::remove(base.string() + ".err");
    return r;
}

std::vector<std::string> as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return argv;
}

int count_lines(const std::string& s) {
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

class ToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "skipped: the tools need root";
        before_ = ctrbench::hostcheck::snapshot();
        dir_ = fs::temp_directory_path() / ("ctrbench-tools-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (::geteuid() != 0) return;
        fs::remove_all(dir_);
        EXPECT_EQ(ctrbench::hostcheck::leftovers_after(before_), "") << "left behind on the host";
    }
    ctrbench::hostcheck::HostSnapshot before_;
    fs::path dir_;
};

void expect_one_line_error(const Ran& r, int code, const std::string& needle) {
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace

TEST_F(ToolsTest, HarnessBadInputIsOneLineAndExit2) {
    expect_one_line_error(run({HARNESS_BIN, "--driver", "nope"}), 2,
                          "unknown driver 'nope' (valid: lean, crun, runc, runsc, docker, podman, ");
    expect_one_line_error(
        run({HARNESS_BIN, "--driver", "lean", "--test", "nope"}), 2,
        "unknown test 'nope' (valid: boot, sqlite-read, sqlite-write, files-read, tar-extract, http, "
        "ping, throughput, isolation, checkpoint, checkpoint-lazy, service, service-restored, service-pool)");
    expect_one_line_error(run({HARNESS_BIN, "--frobnicate"}), 2, "--frobnicate");
    expect_one_line_error(run({HARNESS_BIN, "--driver", "lean", "--runs", "-3"}), 2, "--runs");
    expect_one_line_error(run({HARNESS_BIN}), 2, "no --driver given");
    expect_one_line_error(run({HARNESS_BIN, "--driver", "crun", "--userns"}), 2,
                          "driver crun has no --userns (it is for lean)");
    expect_one_line_error(run({HARNESS_BIN, "--driver", "docker", "--seccomp", "unconfined"}), 2,
                          "driver docker cannot run without its seccomp filter");
}

TEST_F(ToolsTest, HarnessHelpAndList) {
    auto h = run({HARNESS_BIN, "--help"});
    EXPECT_EQ(h.code, 0);
    EXPECT_NE(h.out.find("--driver"), std::string::npos);
    auto l = run({HARNESS_BIN, "--list"});
    EXPECT_EQ(l.code, 0);
    EXPECT_TRUE(std::regex_search(l.out, std::regex("lean +available")));
    EXPECT_NE(l.out.find("boot"), std::string::npos);
    auto nobody = run(as_nobody({HARNESS_BIN, "--list"}));
    EXPECT_TRUE(std::regex_search(nobody.out, std::regex("lean +skipped +needs root"))) << nobody.out;
    // The docker socket is root's (and the docker group's): an unprivileged user is told so.
    if (fs::exists("/run/docker.sock")) {
        EXPECT_TRUE(std::regex_search(
            nobody.out, std::regex("docker +skipped +\\[--runtime runc\\] permission denied on /run/docker.sock")))
            << nobody.out;
    }
    if (fs::exists("/run/containerd/containerd.sock")) {
        EXPECT_TRUE(std::regex_search(nobody.out, std::regex("containerd +skipped +\\[--runtime runc\\] containerd: "
                                                             "permission denied on /run/containerd/containerd.sock")))
            << nobody.out;
    }
}

TEST_F(ToolsTest, HarnessNotRootSaysSoAndWritesNothing) {
    fs::permissions(dir_, fs::perms::all);
    auto r = run(as_nobody({HARNESS_BIN, "--driver", "lean", "--out", (dir_ / "r.csv").string()}));
    expect_one_line_error(r, 1, "driver lean is not available on this host: needs root");
    EXPECT_FALSE(fs::exists(dir_ / "r.csv"));
}

TEST_F(ToolsTest, HarnessBootWritesCsvAndJson) {
    auto csv = dir_ / "boot.csv";
    auto r =
        run({HARNESS_BIN, "--driver", "lean", "--test", "boot", "--runs", "5", "--warmup", "2", "--out", csv.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* phase : {"create", "start", "exec", "stop", "clean", "total"})
        EXPECT_TRUE(std::regex_search(
            r.out, std::regex(std::string("  ") + phase + " +Time \\(mean ± σ\\): +[0-9.]+ ms ± +[0-9.]+ ms")))
            << phase << "\n"
            << r.out;
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header.substr(0, 30), "run_id,time,host,candidate,dri");
    int rows = 0, warm = 0;
    while (std::getline(in, line)) {
        ++rows;
        EXPECT_NE(line.find(",ok,"), std::string::npos) << line;
        EXPECT_NE(line.find("lean-lean-overlay-minimal-"), std::string::npos);
        warm += line.find(",boot,,") != std::string::npos && line.find(",1,0.") != std::string::npos;
    }
    EXPECT_EQ(rows, 7);  // warmups are recorded too, flagged
    auto meta = nlohmann::json::parse(slurp(fs::path(csv).replace_extension(".json")));
    EXPECT_FALSE(meta["host"]["kernel"].get<std::string>().empty());
    EXPECT_GT(meta["host"]["cores"].get<int>(), 0);
    EXPECT_EQ(meta["results"][0]["summary"]["total_ms"]["n"], 5);
    EXPECT_EQ(meta["results"][0]["summary"]["exec_ms"]["samples"].size(), 5u);
}

TEST_F(ToolsTest, HarnessCtrlCKeepsResultsAndCleansUp) {
    auto csv = dir_ / "int.csv";
    // Ctrl-C once ten runs are written.
    auto r = run({HARNESS_BIN, "--driver", "lean", "--runs", "100000", "--warmup", "0", "--out", csv.string()},
                 [&] { return lines_in(csv) > 10; });
    EXPECT_EQ(r.code, 130) << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    std::ifstream in(csv);
    std::string line;
    int rows = -1;
    while (std::getline(in, line)) {
        ++rows;
        EXPECT_EQ(std::count(line.begin(), line.end(), ','), 24) << "a torn row: " << line;
    }
    EXPECT_GT(rows, 5) << "the runs measured before Ctrl-C must be kept";
    auto meta = nlohmann::json::parse(slurp(fs::path(csv).replace_extension(".json")));
    EXPECT_TRUE(meta["interrupted"].get<bool>());
}

TEST_F(ToolsTest, StartLeanContainerRunsAndPassesTheExitCode) {
    auto r = run({START_BIN, "hello", kRootfs, "/bin/echo", "Hello", "World"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Hello World\n");
    EXPECT_EQ(run({START_BIN, "c", kRootfs, "/bin/sh", "-c", "exit 5"}).code, 5);
    auto h = run({START_BIN, "myname", kRootfs, "/bin/hostname"});
    EXPECT_EQ(h.out, "myname\n");
}

TEST_F(ToolsTest, StartLeanContainerBadInput) {
    expect_one_line_error(run({START_BIN, "c", "rel/rootfs", "/bin/true"}), 2,
                          "ROOTFS_ABS_PATH must be an absolute path");
    expect_one_line_error(run({START_BIN, "c", kRootfs, "bin/true"}), 2, "COMMAND_ABS_PATH must be an absolute path");
    expect_one_line_error(run({START_BIN, "c", kRootfs, "/bin/nonexistent"}), 2,
                          "command /bin/nonexistent not found in rootfs");
    expect_one_line_error(run({START_BIN, "c", "/nonexistent-rootfs", "/bin/true"}), 2, "/nonexistent-rootfs");
    expect_one_line_error(run({START_BIN, "c", kRootfs}), 2, "usage:");
    expect_one_line_error(run({START_BIN, "bad/name", kRootfs, "/bin/true"}), 2, "may only hold");
    // The name is the hostname, which the kernel caps at 64 bytes: refused as input, not at sethostname.
    expect_one_line_error(run({START_BIN, std::string(100, 'n'), kRootfs, "/bin/true"}), 2,
                          "longer than 64 characters");
    expect_one_line_error(run(as_nobody({START_BIN, "c", kRootfs, "/bin/true"})), 1, "must run as root");
}

TEST_F(ToolsTest, StartLeanContainerCtrlCKillsTheContainer) {
    // Ctrl-C once the container's command runs.
    auto r = run({START_BIN, "c", kRootfs, "/usr/bin/ctrbench-agent", "hang"},
                 [] { return process_running("ctrbench-agent"); });
    EXPECT_EQ(r.code, 130);
    EXPECT_NE(r.err.find("interrupted"), std::string::npos);
}

TEST_F(ToolsTest, BenchmarkPrintsTheSeedFormatAndTheRatio) {
    auto r = run({BENCH_BIN, "2", "--baseline-seconds", "0.5"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::regex per_second(
        R"(^start \d+ lean containers in \d+\.\d{6} second\(s\), latency per container \d+\.\d{6}ms$)");
    std::regex total(R"(^total: start \d+ lean containers in \d+\.\d{6} second\(s\)$)");
    std::regex ratio(R"(^ratio lean/bare: \d+\.\d\dx)");
    int seconds = 0;
    bool saw_total = false, saw_ratio = false, saw_baseline = false, saw_ns = false, saw_ns_ratio = false;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        seconds += std::regex_match(line, per_second);
        saw_total |= std::regex_match(line, total);
        saw_ratio |= std::regex_search(line, ratio);
        saw_baseline |= line.starts_with("baseline: bare clone");
        saw_ns |= line.starts_with("baseline: the same clone into new namespaces (mnt, pid, uts, ipc, cgroup)");
        saw_ns_ratio |= std::regex_search(line, std::regex(R"(^ratio lean/namespaced clone: \d+\.\d\dx)"));
    }
    EXPECT_GE(seconds, 1) << r.out;
    EXPECT_TRUE(saw_total && saw_ratio && saw_baseline) << r.out;
    // The second baseline: the same clone with the container's namespaces, so the ratio a user can
    // act on (what ctrbench's setup adds) is printed beside the whole cost.
    EXPECT_TRUE(saw_ns && saw_ns_ratio) << r.out;
    EXPECT_EQ(r.out.find("goal"), std::string::npos)
        << "a benchmark prints figures, not a verdict on a goal: " << r.out;
    EXPECT_NE(r.out.find("ctrbench's setup adds "), std::string::npos) << "what a user can act on: " << r.out;
}

TEST_F(ToolsTest, BenchmarkWithWorkersPrintsThroughput) {
    auto r = run({BENCH_BIN, "1", "--procs", "2", "--baseline-seconds", "0"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(@worker0 +start \d+ lean containers)"))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(throughput: \d+ containers/s with 2 processes)"))) << r.out;
}

TEST_F(ToolsTest, BenchmarkBadInput) {
    expect_one_line_error(run({BENCH_BIN, "zero"}), 2, "SECONDS");
    expect_one_line_error(run({BENCH_BIN, "1", "--rootfs", "/nonexistent"}), 2, "/nonexistent");
    expect_one_line_error(run(as_nobody({BENCH_BIN, "1"})), 1, "must run as root");
}

TEST(Image, SameInputsGiveTheSameBytes) {
    auto a = fs::temp_directory_path() / ("ctrbench-img-a-" + std::to_string(::getpid()));
    auto b = fs::temp_directory_path() / ("ctrbench-img-b-" + std::to_string(::getpid()));
    ASSERT_EQ(run({IMAGE_SCRIPT, a.string(), AGENT_BIN}).code, 0);
    std::this_thread::sleep_for(1100ms);  // a different wall clock must not matter
    ASSERT_EQ(run({IMAGE_SCRIPT, b.string(), AGENT_BIN}).code, 0);
    EXPECT_EQ(slurp(a / "minimal.sha256"), slurp(b / "minimal.sha256"));
    EXPECT_TRUE(fs::exists(a / "rootfs/bin/busybox"));
    EXPECT_EQ(fs::read_symlink(a / "rootfs/bin/echo"), "../bin/busybox");
    EXPECT_TRUE(fs::exists(a / "rootfs/usr/bin/ctrbench-agent"));
    fs::remove_all(a);
    fs::remove_all(b);
}
