// The thesis's network workloads (section 4.2.2). Both need the container's own network: a link the
// driver made (lean, crun, runc: a veth pair into the container's namespace) or the engine's own
// (docker: its bridge, with the port published on 127.0.0.1). Nothing else is ever addressed.
#pragma once

#include "workloads/workload.h"

namespace ctrbench {

// http: the command starts a web server detached (lighttpd where the image has it, else busybox
// httpd) serving a fixed page on port 80, and returns; the harness then polls the page every
// kPollInterval until the first 200 with the right body: t_response = tr - te.
class HttpWorkload final : public Workload {
public:
    static constexpr std::chrono::milliseconds kPollInterval{1};
    static constexpr int kPort = 80;
    static constexpr const char* kBody = "ctrbench-http-ok\n";

    std::string name() const override { return "http"; }
    std::string description() const override {
        return "start a web server detached (lighttpd in full, busybox httpd in minimal); poll until the first 200";
    }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
    Status prepare(ContainerSpec& spec, const std::string& param) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool awaits_response() const override { return true; }
    Result<Outcome> await_response(Container& c, const std::string& param,
                                   std::chrono::milliseconds deadline) const override;
    std::map<std::string, long long> metadata() const override {
        return {{"http_poll_interval_ms", kPollInterval.count()}};
    }
};

// ping: from inside the container, ping the host end of its own link `count` times (NET_RAW is
// granted for this workload only). The figure is the average RTT; min/avg/max go to the samples.
class PingWorkload final : public Workload {
public:
    std::string name() const override { return "ping"; }
    std::string description() const override {
        return "ping the host end of the container's own link; rtt min/avg/max";
    }
    std::string param_name() const override { return "count"; }
    std::vector<std::string> param_values() const override { return {"10"}; }
    bool accepts(const std::string& v) const override { return positive_number(v, 10000); }
    std::string param_hint() const override { return "a number of pings from 1 to 10000, default 10"; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
    Status prepare(ContainerSpec& spec, const std::string& param) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
};

// Why a driver with `caps` gives no network link of a container's own; empty when it does.
std::string no_network_reason(const Capabilities& caps);

struct PingSummary {
    int sent = 0, received = 0;
    double min = 0, avg = 0, max = 0;
};
// Parses busybox's and iputils' summary lines; an error when they are missing.
Result<PingSummary> parse_ping(const std::string& out);

}  // namespace ctrbench
