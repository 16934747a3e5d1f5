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

// The agent's output for every probe, each blocked, except those named in `allowed`.
std::string agent_output(const std::set<std::string>& allowed = {}, const std::string& leave_out = "") {
    std::string out;
    for (const auto& p : IsolationWorkload::probes()) {
        if (p == leave_out) continue;
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
    EXPECT_EQ(out->probes.size(), IsolationWorkload::probes().size());
    EXPECT_EQ(out->value, static_cast<double>(IsolationWorkload::probes().size() - 1));
    EXPECT_EQ(out->unit, "probes blocked");
    EXPECT_NE(out->detail.find("time per family: files 0.1 ms"), std::string::npos) << out->detail;
}

TEST(Isolation, AProbeThatDidNotReportFailsTheRun) {
    IsolationWorkload w;
    auto out = w.check(exited(0, agent_output({}, "kernel/keyctl")), "");
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("probe kernel/keyctl did not report"), std::string::npos);
    // A command that failed before the end is an error, not a scorecard with holes.
    auto cut = w.check(exited(1, agent_output({}, "resources/memory").substr(0, 200)), "");
    ASSERT_FALSE(cut);
}

// gVisor holds the memory limit by the host killing the whole sandbox: every probe before the
// memory probe reported, the command ended; the memory probe is blocked, with how it ended.
TEST(Isolation, ASandboxKilledAtItsMemoryLimitBlocksTheMemoryProbe) {
    IsolationWorkload w;
    auto out = w.check(exited(128, agent_output({}, "resources/memory")), "");
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_EQ(out->probes.back().name, "resources/memory");
    EXPECT_EQ(out->probes.back().verdict, ProbeResult::Verdict::Blocked);
    EXPECT_NE(out->probes.back().detail.find("killed"), std::string::npos);
}

TEST(Isolation, TargetsOnTheHostLiveAsLongAsTheWorkload) {
    auto root = fs::temp_directory_path() / ("ctrbench-isolation-test-" + std::to_string(::getpid()));
    fs::path marker;
    {
        IsolationWorkload w;
        EXPECT_EQ(w.command("").size(), 2u);  // no targets yet: the probes needing them say "not tried"
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
