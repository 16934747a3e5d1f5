#include "harness/cli.h"

#include <gtest/gtest.h>

using namespace ctrbench;

namespace {
ParseOutcome parse(std::vector<std::string> args) {
    static auto drivers = builtin_drivers();
    static auto workloads = builtin_workloads();
    return parse_cli(args, drivers, workloads);
}
}  // namespace

TEST(Cli, DriverAndTest) {
    auto r = parse({"--driver", "lean", "--test", "boot", "--runs", "5", "--warmup", "1", "--out", "x.csv"});
    ASSERT_TRUE(r.proceed) << r.message;
    EXPECT_EQ(r.options.driver, "lean");
    EXPECT_EQ(r.options.test, "boot");
    EXPECT_EQ(r.options.runs, 5);
    EXPECT_EQ(r.options.warmup, 1);
    EXPECT_EQ(r.options.out, "x.csv");
}

TEST(Cli, DefaultsAreSane) {
    auto r = parse({"--driver", "lean"});
    ASSERT_TRUE(r.proceed);
    EXPECT_EQ(r.options.test, "boot");
    EXPECT_GE(r.options.runs, 10);
    EXPECT_GE(r.options.warmup, 1);
    EXPECT_EQ(r.options.image, "minimal");
}

TEST(Cli, UnknownDriverListsValidNamesExit2) {
    auto r = parse({"--driver", "dockr"});
    EXPECT_FALSE(r.proceed);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(r.message.starts_with("unknown driver 'dockr' (valid: lean, crun, runc, runsc, docker, podman, "))
        << r.message;  // then every other built-in driver
    EXPECT_TRUE(r.message.ends_with(")")) << r.message;
}

TEST(Cli, UnknownTestListsValidNamesExit2) {
    auto r = parse({"--driver", "lean", "--test", "bot"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.message,
              "unknown test 'bot' (valid: boot, sqlite-read, sqlite-write, files-read, tar-extract, http, ping, "
              "throughput, isolation, checkpoint, checkpoint-lazy, service, service-restored, service-pool)");
}

TEST(Cli, MissingDriverAndBadOptions) {
    EXPECT_EQ(parse({}).exit_code, 2);
    EXPECT_EQ(parse({"--frobnicate"}).exit_code, 2);
    EXPECT_EQ(parse({"--driver", "lean", "--runs", "0"}).exit_code, 2);
    EXPECT_EQ(parse({"--driver", "lean", "--runs", "many"}).exit_code, 2);
    EXPECT_EQ(parse({"--driver", "lean", "--param", "db=1"}).exit_code, 2);
    EXPECT_EQ(parse({"--driver", "lean", "--image", "fat"}).exit_code, 2);
    EXPECT_TRUE(parse({"--driver", "lean", "--image", "full"}).proceed);
    for (auto args : std::vector<std::vector<std::string>>{{"--frobnicate"}, {"--driver", "lean", "--runs", "x"}})
        EXPECT_EQ(parse(args).message.find('\n'), std::string::npos) << "errors are one line";
}

TEST(Cli, HelpTellsTheEntryPoints) {
    auto r = parse({"--help"});
    EXPECT_FALSE(r.proceed);
    EXPECT_EQ(r.exit_code, 0);
    for (const char* s : {"--driver", "--test", "--runs", "--warmup", "--out", "--list", "lean", "boot"})
        EXPECT_NE(r.message.find(s), std::string::npos) << s;
}

TEST(Cli, ListNeedsNoDriver) {
    auto r = parse({"--list"});
    EXPECT_TRUE(r.proceed);
    EXPECT_TRUE(r.options.list);
}

TEST(Cli, RuntimeOnlyForManagers) {
    EXPECT_TRUE(parse({"--driver", "docker", "--runtime", "crun"}).proceed);
    auto bad = parse({"--driver", "docker", "--runtime", "kata"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.message, "unknown runtime 'kata' for docker (valid: runc, crun, runsc)");
    auto none = parse({"--driver", "lean", "--runtime", "runc"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.message.find("takes no --runtime"), std::string::npos);
}

TEST(Cli, ParamsAreCheckedAgainstTheWorkload) {
    auto ok = parse({"--driver", "lean", "--test", "sqlite-read", "--param", "db=11.9MB"});
    EXPECT_TRUE(ok.proceed) << ok.message;
    auto bad = parse({"--driver", "lean", "--test", "sqlite-read", "--param", "db=12MB"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.message, "unknown value in --param 'db=12MB' (valid: 151.6kB, 536.6kB, 2.6MB, 11.9MB, 111.6MB)");
    EXPECT_EQ(parse({"--driver", "lean", "--test", "files-read", "--param", "db=10"}).exit_code, 2);
    EXPECT_TRUE(parse({"--driver", "lean", "--test", "tar-extract", "--param", "count=1000"}).proceed);
}

TEST(Cli, FreeNumericParamsForPingAndThroughput) {
    EXPECT_TRUE(parse({"--driver", "lean", "--test", "ping", "--param", "count=3"}).proceed);
    EXPECT_TRUE(parse({"--driver", "lean", "--test", "throughput", "--param", "concurrency=8"}).proceed);
    auto zero = parse({"--driver", "lean", "--test", "throughput", "--param", "concurrency=0"});
    EXPECT_EQ(zero.exit_code, 2);
    EXPECT_EQ(zero.message,
              "unknown value in --param 'concurrency=0' (valid: a number of workers from 1 to 256, default 1, 2, 4)");
    EXPECT_EQ(parse({"--driver", "lean", "--test", "ping", "--param", "count=ten"}).exit_code, 2);
    EXPECT_EQ(parse({"--driver", "lean", "--test", "http", "--param", "port=80"}).exit_code, 2);
}

TEST(Cli, ToolsNativeOnlyForTheIoWorkloads) {
    auto ok = parse({"--driver", "lean", "--test", "tar-extract", "--tools", "native"});
    EXPECT_TRUE(ok.proceed) << ok.message;
    EXPECT_EQ(ok.options.tools, "native");
    auto boot = parse({"--driver", "lean", "--test", "boot", "--tools", "native"});
    EXPECT_EQ(boot.exit_code, 2);
    EXPECT_NE(boot.message.find("test 'boot' has no native-tools form"), std::string::npos);
    auto bad = parse({"--driver", "lean", "--tools", "busybox"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.message, "unknown --tools 'busybox' (valid: agent, native)");
}

TEST(Cli, RunsGivenOrLeftToTheWorkload) {
    auto d = parse({"--driver", "lean", "--test", "throughput"});
    EXPECT_FALSE(d.options.runs_given);
    auto g = parse({"--driver", "lean", "--test", "throughput", "--runs", "5"});
    EXPECT_TRUE(g.options.runs_given);
    EXPECT_EQ(g.options.runs, 5);
}

TEST(Cli, NumbersAreCheckedWithAMessageThatSaysWhatTheOptionTakes) {
    auto r = parse({"--driver", "lean", "--runs", "abc"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.message.find("'abc' is not a whole number"), std::string::npos) << r.message;
    r = parse({"--driver", "lean", "--runs", "0"});
    EXPECT_NE(r.message.find("0 is out of range (1 to 1000000)"), std::string::npos) << r.message;
    r = parse({"--driver", "lean", "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.message.find("0 is out of range (more than 0, at most 86400 seconds)"), std::string::npos) << r.message;
    EXPECT_LT(r.message.size(), 120u) << "one short line, no 309-digit bound: " << r.message;
    r = parse({"--driver", "lean", "--timeout", "2.5"});
    EXPECT_TRUE(r.proceed) << r.message;
    EXPECT_DOUBLE_EQ(r.options.timeout_s, 2.5);
}

TEST(Cli, StorageIsForOneDriverAndHelpTellsEveryManagersRuntime) {
    auto r = parse({"--driver", "lean", "--storage", "tmpfs"});
    ASSERT_TRUE(r.proceed) << r.message;
    EXPECT_EQ(r.options.storage, "tmpfs");
    r = parse({"--matrix", "all", "--storage", "tmpfs"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.message, "--storage is for --driver; with --matrix, filter: --matrix storage=tmpfs");
    r = parse({"--help"});
    EXPECT_NE(r.message.find("podman with crun or runc"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("--storage"), std::string::npos);
}

TEST(Cli, SeccompAndUsernsAreForOneLeanRunNotTheMatrix) {
    auto r = parse({"--driver", "lean", "--userns", "--seccomp", "unconfined"});
    ASSERT_TRUE(r.proceed) << r.message;
    EXPECT_TRUE(r.options.userns);
    EXPECT_EQ(r.options.seccomp, "unconfined");
    EXPECT_FALSE(parse({"--driver", "lean"}).options.userns) << "no user namespace unless asked for";
    r = parse({"--matrix", "all", "--userns"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.message, "--userns is for --driver lean: a candidate of the matrix runs as its engine does by default");
    r = parse({"--matrix", "all", "--seccomp", "unconfined"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.message.find("--seccomp is for --driver lean"), std::string::npos) << r.message;
    EXPECT_NE(parse({"--help"}).message.find("--userns"), std::string::npos);
}
