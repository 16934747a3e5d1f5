#include "workloads/isolation.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/unique_fd.h"

namespace ctrbench {
namespace {

constexpr const char* kAgent = "/usr/bin/ctrbench-agent";
// The container's pids limit in this workload (the probe tries 76 processes more): lower than the
// 1024 of the other workloads, so that a sandbox that does not hold it (gVisor's) costs a third.
constexpr std::int64_t kProbePids = 256;
namespace fs = std::filesystem;

// This process's start time in clock ticks since boot (field 22 of /proc/self/stat).
std::string own_start_time() {
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
    }
    return field;
}

// A whole disk of the host (not a loop, ram or CD device): what devices/mknod-disk tries to read.
std::string host_disk() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/dev/block", ec)) {
        const std::string id = e.path().filename();
        const int major = std::atoi(id.c_str());
        if (major == 1 || major == 7 || major == 11) continue;
        if (fs::exists(e.path() / "partition")) continue;
        return id;
    }
    return "";
}

}  // namespace

// What the probes look for on the host, set out once before the runs and removed with the workload.
struct IsolationWorkload::HostSide {
    fs::path marker;
    std::string token, port, abstract, pid, start, disk;
    UniqueFd tcp, unix_socket;

    ~HostSide() {
        std::error_code ec;
        if (!marker.empty()) fs::remove(marker, ec);
    }

    Status open(const fs::path& root) {
        std::random_device rd;
        std::ostringstream tok;
        tok << std::hex << rd() << rd() << rd() << rd();
        token = tok.str();
        std::error_code ec;
        fs::create_directories(root / "isolation", ec);
        if (ec) return fail(Error::sys(ec.value(), "create " + (root / "isolation").string()));
        marker = root / "isolation" / ("host-marker-" + std::to_string(::getpid()));
        std::ofstream(marker) << token;
        if (!fs::exists(marker)) return fail_msg("cannot write the host marker " + marker.string());
        // Listeners the kernel completes handshakes for without an accept(): no thread needed.
        tcp = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof in;
        if (!tcp || ::bind(tcp.get(), reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 ||
            ::listen(tcp.get(), 64) != 0 || ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&in), &len) != 0)
            return fail_sys("listen on 127.0.0.1 for the isolation probes");
        port = std::to_string(ntohs(in.sin_port));
        abstract = "ctrbench-isolation-" + std::to_string(::getpid());
        unix_socket = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        abstract.copy(un.sun_path + 1, abstract.size());
        auto ulen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
        if (!unix_socket || ::bind(unix_socket.get(), reinterpret_cast<sockaddr*>(&un), ulen) != 0 ||
            ::listen(unix_socket.get(), 64) != 0)
            return fail_sys("listen on the abstract socket @" + abstract);
        pid = std::to_string(::getpid());
        start = own_start_time();
        disk = host_disk();
        return {};
    }
};

IsolationWorkload::IsolationWorkload() = default;
IsolationWorkload::~IsolationWorkload() = default;

std::string IsolationWorkload::description() const {
    return "what a hostile program inside can do to the host: " + std::to_string(probes().size()) +
           " probes in 8 families (files, processes, mounts, devices, kernel, network, resources, privilege), "
           "a CSV row each (value 1 = blocked)";
}

const std::vector<std::string>& IsolationWorkload::probes() {
    static const std::vector<std::string> p = {"files/host-path",        "files/dotdot",
                                               "files/symlink",          "files/proc1-root",
                                               "files/inherited-fds",    "files/open-by-handle",
                                               "processes/host-pid",     "processes/signal-host",
                                               "processes/ptrace-host",  "processes/traceme-thread",
                                               "mounts/mount-tmpfs",     "mounts/remount-proc-sys",
                                               "mounts/umount-mask",     "mounts/pivot-root",
                                               "mounts/unshare-mount",   "mounts/userns-mount",
                                               "devices/mknod-disk",     "devices/mknod-mem",
                                               "devices/dev-mem",        "devices/dev-kmsg",
                                               "devices/extra-nodes",    "kernel/sysrq-trigger",
                                               "kernel/proc-sys-global", "kernel/proc-sys-uts",
                                               "kernel/module",          "kernel/proc-keys",
                                               "kernel/keyctl",          "kernel/add-key",
                                               "kernel/timer-list",      "kernel/kcore",
                                               "kernel/syslog",          "kernel/bpf",
                                               "kernel/perf-event",      "kernel/userfaultfd",
                                               "kernel/io-uring",        "network/raw-socket",
                                               "network/packet-socket",  "network/vsock",
                                               "network/host-loopback",  "network/abstract-unix",
                                               "privilege/host-root",    "privilege/bounding-set",
                                               "privilege/inheritable",  "privilege/ambient",
                                               "privilege/no-new-privs", "privilege/seccomp",
                                               "privilege/setuid",       "resources/pids",
                                               "resources/cpu",          "resources/disk",
                                               "resources/memory",       "resources/memory-wedge"};
    return p;
}

Result<std::vector<BindMount>> IsolationWorkload::data(const std::string&, const fs::path& root,
                                                       const Progress&) const {
    if (!host_) {
        auto side = std::make_unique<HostSide>();
        if (auto s = side->open(root); !s)
            return fail(std::move(s.error()).wrap("set out the isolation probes' targets"));
        host_ = std::move(side);
    }
    return std::vector<BindMount>{};  // nothing of the host's is given to the container
}

std::string IsolationWorkload::unsupported(const Capabilities&, const fs::path& rootfs) const {
    if (native_tools()) return "the probes have no form in the image's own tools (--tools agent)";
    return fs::exists(rootfs / "usr/bin/ctrbench-agent") ? "" : "the image has no ctrbench-agent";
}

std::vector<std::string> IsolationWorkload::command(const std::string&) const {
    std::vector<std::string> argv = {kAgent, "probe", "memory=skip", "pids=" + std::to_string(kProbePids)};
    if (!host_) return argv;  // no targets set out: the probes that need them say "not tried"
    auto add = [&](const char* key, const std::string& value) {
        if (!value.empty()) argv.push_back(std::string(key) + "=" + value);
    };
    add("marker", host_->marker.string());
    add("token", host_->token);
    add("hostpid", host_->pid);
    add("hoststart", host_->start);
    add("port", host_->port);
    add("abstract", host_->abstract);
    add("blockdev", host_->disk);
    return argv;
}

Result<std::vector<ProbeResult>> parse_probes(const std::string& out) {
    std::vector<ProbeResult> probes;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        auto t1 = line.find('\t');
        auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos)
            return fail_msg("the agent's probe output has a malformed line: '" + line.substr(0, 80) + "'");
        ProbeResult p;
        p.name = line.substr(0, t1);
        const std::string verdict = line.substr(t1 + 1, t2 - t1 - 1);
        p.detail = line.substr(t2 + 1);
        if (verdict == "blocked")
            p.verdict = ProbeResult::Verdict::Blocked;
        else if (verdict == "allowed")
            p.verdict = ProbeResult::Verdict::Allowed;
        else if (verdict == "untried")
            p.verdict = ProbeResult::Verdict::Untried;
        else
            return fail_msg("probe " + p.name + ": unknown verdict '" + verdict + "'");
        probes.push_back(std::move(p));
    }
    return probes;
}

namespace {

constexpr std::chrono::milliseconds kMemoryDeadline{5'000};  // the probe takes under a second where it returns
const std::set<std::string> kMemoryProbes = {"resources/memory", "resources/memory-wedge"};

// The probes' verdicts counted: the outcome's figure and the first words of its detail.
Outcome tally(std::vector<ProbeResult> probes) {
    Outcome o;
    int tried = 0;
    for (const auto& p : probes) {
        tried += p.verdict != ProbeResult::Verdict::Untried;
        o.value += p.verdict == ProbeResult::Verdict::Blocked;
    }
    o.unit = "probes blocked";
    o.detail = std::to_string(static_cast<int>(o.value)) + " of " + std::to_string(tried) + " tried blocked, " +
               std::to_string(probes.size() - static_cast<std::size_t>(tried)) + " not tried";
    o.probes = std::move(probes);
    return o;
}

// The agent's stderr, each family's time ("files 0.2 ms"), as a clause of the JSON detail.
std::string family_times(const std::string& err) {
    std::string times;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
        if (line.ends_with(" ms")) times += (times.empty() ? "" : ", ") + line;
    return times.empty() ? "" : "; time per family: " + times;
}

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Result<Outcome> IsolationWorkload::check(const ExecResult& r, const std::string&) const {
    if (auto s = expect_success(r); !s) return fail(std::move(s.error()).wrap("the isolation probes"));
    auto got = parse_probes(r.out);
    if (!got) return fail(std::move(got.error()));
    std::set<std::string> seen;
    for (const auto& p : *got) seen.insert(p.name);
    for (const auto& want : probes())
        if (!seen.count(want) && !kMemoryProbes.count(want))
            return fail_msg("probe " + want + " did not report (" + std::to_string(got->size()) + " of " +
                            std::to_string(probes().size() - kMemoryProbes.size()) + " did)");
    if (got->size() != probes().size() - kMemoryProbes.size())
        return fail_msg("the agent reported " + std::to_string(got->size()) + " probes, expected " +
                        std::to_string(probes().size() - kMemoryProbes.size()) + ": agent and harness differ");
    Outcome o = tally(std::move(*got));
    o.detail += family_times(r.err);
    return o;
}

std::vector<ProbeResult> memory_verdicts(const Result<ExecResult>& m, std::chrono::milliseconds deadline) {
    using V = ProbeResult::Verdict;
    ProbeResult memory{"resources/memory", V::Blocked, ""};
    ProbeResult wedge{"resources/memory-wedge", V::Blocked, "the engine's exec returned after the probe"};
    if (!m) {  // the engine refused the exec or lost the sandbox under it
        memory.detail = "the sandbox ended on the way to 1280 MiB: " + m.error().message();
        return {memory, wedge};
    }
    if (m->timed_out) {
        memory.detail = "the sandbox was killed on the way to 1280 MiB (its exec never returned)";
        wedge.verdict = V::Allowed;
        wedge.detail =
            "after the sandbox was killed at its memory limit the engine's exec did not return; the "
            "harness ended it after " +
            std::to_string(deadline.count() / 1000) + " s";
        return {memory, wedge};
    }
    if (auto got = parse_probes(m->out); got && got->size() == 1 && got->front().name == memory.name)
        memory = got->front();  // the agent's own verdict: the limit killed its child, or did not
    else
        memory.detail = "the sandbox was killed on the way to 1280 MiB (" + m->describe() + ")";
    return {memory, wedge};
}

Result<Outcome> IsolationWorkload::measure(Driver& driver, const ContainerSpec& spec, const std::string& param) const {
    ContainerSpec base = spec;
    base.limits.pids = kProbePids;
    auto c = driver.create(base);
    if (!c) return fail(std::move(c.error()));
    Container& ct = **c;
    Result<Outcome> out = fail_msg("the container did not start");
    if (auto st = ct.start(); !st) {
        out = fail(std::move(st.error()));
    } else {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = ct.exec(command(param), base.timeout);
        const double probes_ms = ms_since(t0);
        out = r ? check(*r, param) : Result<Outcome>(fail(std::move(r.error())));
        if (out) {
            const auto t1 = std::chrono::steady_clock::now();
            std::vector<std::string> memory = {kAgent, "probe", "memory=only"};
            auto verdicts = memory_verdicts(ct.exec(memory, kMemoryDeadline), kMemoryDeadline);
            auto all = std::move(out->probes);
            all.insert(all.end(), verdicts.begin(), verdicts.end());
            *out = tally(std::move(all));
            char times[96];
            std::snprintf(times, sizeof times, "; probes %.0f ms, memory probe %.0f ms", probes_ms, ms_since(t1));
            out->detail += times + family_times(r->err);
        }
    }
    auto stopped = ct.stop();
    auto cleaned = ct.clean();
    if (!out) return out;
    if (!stopped) return fail(std::move(stopped.error()));
    if (!cleaned) return fail(std::move(cleaned.error()));
    return out;
}

}  // namespace ctrbench
