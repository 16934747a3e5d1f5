// The isolation workload's side in the harness: the agent's lines read back as probes, a run with
// a probe missing is an error, the targets it sets out on the host exist while it lives and are
// gone after it.
#include "workloads/isolation.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {

// The first exec's output (every probe but the two memory ones, which have an exec of their own),
// each blocked, except those named in `allowed`.
std::string agent_output(const std::set<std::string>& allowed = {}, const std::string& leave_out = "") {
    std::string out;
    for (const auto& p : IsolationWorkload::probes()) {
        if (p == leave_out || p.starts_with("resources/memory")) continue;
        out += p + "\t" + (allowed.count(p) ? "allowed" : "blocked") + "\twhat happened\n";
    }
    return out;
}

ExecResult exited(int code, std::string out, std::string err = "") {
    ExecResult r;
    r.exit_code = code;
    r.out = std::move(out);
    r.err = std::move(err);
    return r;
}

std::string arg(const std::vector<std::string>& argv, const std::string& key) {
    for (const auto& a : argv)
        if (a.starts_with(key + "=")) return a.substr(key.size() + 1);
    return "";
}

}  // namespace

TEST(Isolation, ProbeLinesReadBack) {
    auto p = parse_probes("files/host-path\tblocked\tENOENT on /x\nresources/disk\tuntried\tno quota\n");
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_EQ(p->size(), 2u);
    EXPECT_EQ((*p)[0].name, "files/host-path");
    EXPECT_EQ((*p)[0].verdict, ProbeResult::Verdict::Blocked);
    EXPECT_EQ((*p)[0].detail, "ENOENT on /x");
    EXPECT_EQ((*p)[1].verdict, ProbeResult::Verdict::Untried);
    EXPECT_FALSE(parse_probes("files/host-path blocked\n"));
    auto bad = parse_probes("files/host-path\tmaybe\tx\n");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("unknown verdict 'maybe'"), std::string::npos);
}

TEST(Isolation, EveryProbeReportedGivesARowEach) {
    IsolationWorkload w;
    auto out = w.check(exited(0, agent_output({"privilege/host-root"}), "files 0.1 ms\n"), "");
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(out->probes.size(), IsolationWorkload::probes().size() - 2);
    EXPECT_EQ(out->value, static_cast<double>(IsolationWorkload::probes().size() - 3));
    EXPECT_EQ(out->unit, "probes blocked");
    EXPECT_NE(out->detail.find("time per family: files 0.1 ms"), std::string::npos) << out->detail;
}

TEST(Isolation, AProbeThatDidNotReportFailsTheRun) {
    IsolationWorkload w;
    auto out = w.check(exited(0, agent_output({}, "kernel/keyctl")), "");
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("probe kernel/keyctl did not report"), std::string::npos);
    // A command that failed before the end is an error, not a scorecard with holes.
    auto cut = w.check(exited(1, agent_output().substr(0, 200)), "");
    ASSERT_FALSE(cut);
}

// The memory probe's own exec. The agent's verdict when it gave one; gVisor holds the limit by the
// host killing the whole sandbox, so the exec ends without output (runsc: blocked) or never
// (docker+runsc: blocked, and the wedge allowed, named by the deadline that ended it).
TEST(Isolation, TheMemoryProbesVerdictsFromItsExec) {
    using V = ProbeResult::Verdict;
    auto v = memory_verdicts(exited(0, "resources/memory\tblocked\tkilled (SIGKILL) on the way to 1280 MiB\n"),
                             std::chrono::seconds(5));
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].name, "resources/memory");
    EXPECT_EQ(v[0].verdict, V::Blocked);
    EXPECT_EQ(v[0].detail, "killed (SIGKILL) on the way to 1280 MiB");
    EXPECT_EQ(v[1].name, "resources/memory-wedge");
    EXPECT_EQ(v[1].verdict, V::Blocked);
    EXPECT_EQ(memory_verdicts(exited(0, "resources/memory\tallowed\tno limit\n"), std::chrono::seconds(5))[0].verdict,
              V::Allowed);
    auto killed = memory_verdicts(exited(128, ""), std::chrono::seconds(5));
    EXPECT_EQ(killed[0].verdict, V::Blocked);
    EXPECT_NE(killed[0].detail.find("killed"), std::string::npos);
    EXPECT_EQ(killed[1].verdict, V::Blocked);
    ExecResult hung;
    hung.timed_out = true;
    auto wedged = memory_verdicts(hung, std::chrono::seconds(5));
    EXPECT_EQ(wedged[0].verdict, V::Blocked);
    EXPECT_EQ(wedged[1].verdict, V::Allowed);
    EXPECT_NE(wedged[1].detail.find("after 5 s"), std::string::npos) << wedged[1].detail;
    auto lost = memory_verdicts(fail_msg("container is not running"), std::chrono::seconds(5));
    EXPECT_EQ(lost[0].verdict, V::Blocked);
    EXPECT_NE(lost[0].detail.find("container is not running"), std::string::npos);
}

TEST(Isolation, TargetsOnTheHostLiveAsLongAsTheWorkload) {
    auto root = fs::temp_directory_path() / ("ctrbench-isolation-test-" + std::to_string(::getpid()));
    fs::path marker;
    {
        IsolationWorkload w;
        // agent, probe, memory=skip, pids=256 (the workload's own limit): the probes needing targets say "not tried"
        EXPECT_EQ(w.command("").size(), 4u);
        EXPECT_EQ(w.command("").back(), "pids=256");
        auto mounts = w.data("", root, {});
        ASSERT_TRUE(mounts) << mounts.error().message();
        EXPECT_TRUE(mounts->empty()) << "nothing of the host's may be given to the container";
        auto argv = w.command("");
        marker = arg(argv, "marker");
        std::ifstream in(marker);
        std::string token;
        in >> token;
        EXPECT_EQ(token, arg(argv, "token"));
        EXPECT_GE(token.size(), 16u);
        EXPECT_EQ(arg(argv, "hostpid"), std::to_string(::getpid()));
        // The listener answers on the host's loopback (so "blocked" in a container is the namespace).
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in in4{};
        in4.sin_family = AF_INET;
        in4.sin_port = htons(static_cast<uint16_t>(std::stoi(arg(argv, "port"))));
        in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&in4), sizeof in4), 0);
        ::close(fd);
    }
    EXPECT_FALSE(fs::exists(marker)) << "the marker must go with the workload";
    fs::remove_all(root);
}
