#include "workloads/net.h"

#include <httplib.h>

#include <regex>
#include <thread>

namespace ctrbench {
std::string no_network_reason(const Capabilities& caps) {
    if (caps.own_network) return "";
    return caps.no_network_why.empty() ? "the driver gives its containers no network link of their own"
                                       : caps.no_network_why;
}

std::string HttpWorkload::unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const {
    if (auto r = no_network_reason(caps); !r.empty()) return r;
    if (!std::filesystem::exists(rootfs / "usr/sbin/lighttpd") && !std::filesystem::exists(rootfs / "usr/sbin/httpd") &&
        !std::filesystem::exists(rootfs / "sbin/httpd"))
        return "the image has no web server (lighttpd or busybox httpd)";
    return "";
}

Status HttpWorkload::prepare(ContainerSpec& spec, const std::string&) const {
    spec.network = NetworkMode::Own;
    spec.publish = {kPort};
    return {};
}

std::vector<std::string> HttpWorkload::command(const std::string&) const {
    // The server daemonizes with its output on /dev/null, so the exec returns once it is forked off.
    return {"/bin/sh", "-c",
            "mkdir -p /tmp/www && printf 'ctrbench-http-ok\\n' > /tmp/www/index.html && "
            "if [ -x /usr/sbin/lighttpd ]; then "
            "printf 'server.document-root = \"/tmp/www\"\\nserver.port = 80\\nindex-file.names = (\"index.html\")\\n"
            "server.errorlog = \"/tmp/lighttpd.log\"\\n' > /tmp/lighttpd.conf && "
            "exec /usr/sbin/lighttpd -f /tmp/lighttpd.conf </dev/null >/dev/null 2>&1; "
            "else exec httpd -p 80 -h /tmp/www </dev/null >/dev/null 2>&1; fi"};
}

Result<Outcome> HttpWorkload::check(const ExecResult& r, const std::string&) const {
    if (auto s = expect_success(r); !s) return fail(std::move(s.error()).wrap("start the web server"));
    return Outcome{};
}

Result<Outcome> HttpWorkload::await_response(Container& c, const std::string&,
                                             std::chrono::milliseconds deadline) const {
    auto ep = c.endpoint(kPort);
    if (!ep) return fail(std::move(ep.error()));
    auto colon = ep->rfind(':');
    std::string host = ep->substr(0, colon);
    int port = std::stoi(ep->substr(colon + 1));
    httplib::Client cli(host, port);
    cli.set_keep_alive(false);
    cli.set_connection_timeout(std::chrono::milliseconds(500));
    cli.set_read_timeout(std::chrono::seconds(2));
    const auto until = std::chrono::steady_clock::now() + deadline;
    int polls = 0;
    std::string last = "no answer";
    while (std::chrono::steady_clock::now() < until) {
        ++polls;
        if (auto res = cli.Get("/index.html")) {
            if (res->status == 200) {
                if (res->body != kBody)
                    return fail_msg("the server at " + *ep + " answered 200 with an unexpected body: '" +
                                    res->body.substr(0, 60) + "'");
                return Outcome{static_cast<double>(polls), "requests",
                               "first 200 from " + *ep + " after " + std::to_string(polls) + " polls"};
            }
            last = "HTTP " + std::to_string(res->status);
        } else {
            last = httplib::to_string(res.error());
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    return fail_msg("the server at " + *ep + " did not answer 200 within " + std::to_string(deadline.count()) +
                    " ms (" + std::to_string(polls) + " polls, last: " + last + ")");
}

std::string PingWorkload::unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const {
    if (auto r = no_network_reason(caps); !r.empty()) return r;
    if (!std::filesystem::exists(rootfs / "bin/ping") && !std::filesystem::exists(rootfs / "usr/bin/ping"))
        return "the image has no ping";
    return "";
}

Status PingWorkload::prepare(ContainerSpec& spec, const std::string& param) const {
    if (!accepts(param)) return fail_msg("ping count must be a number from 1 to 10000, got '" + param + "'");
    spec.network = NetworkMode::Own;
    spec.add_caps.push_back("NET_RAW");
    return {};
}

std::vector<std::string> PingWorkload::command(const std::string& param) const {
    // -i 0.05: 20 pings a second (root may go below iputils' 0.2 s floor); -W: wait at most 2 s per reply.
    return {"ping", "-c", param, "-i", "0.05", "-W", "2", "{host}"};
}

Result<PingSummary> parse_ping(const std::string& out) {
    PingSummary s;
    std::smatch m;
    static const std::regex counts(R"((\d+) packets transmitted, (\d+) (packets )?received)");
    static const std::regex rtt(R"(min/avg/max(/mdev)? = ([0-9.]+)/([0-9.]+)/([0-9.]+))");
    if (!std::regex_search(out, m, counts))
        return fail_msg("ping printed no packet counts: '" + out.substr(0, 120) + "'");
    s.sent = std::stoi(m[1]);
    s.received = std::stoi(m[2]);
    if (!std::regex_search(out, m, rtt))
        return fail_msg("ping printed no round-trip times: '" + out.substr(0, 120) + "'");
    s.min = std::stod(m[2]);
    s.avg = std::stod(m[3]);
    s.max = std::stod(m[4]);
    return s;
}

Result<Outcome> PingWorkload::check(const ExecResult& r, const std::string& param) const {
    if (auto s = expect_success(r); !s) return fail(std::move(s.error()));
    auto p = parse_ping(r.out);
    if (!p) return fail(std::move(p.error()));
    int want = std::stoi(param);
    if (p->sent != want || p->received != want)
        return fail_msg(std::to_string(p->received) + " of " + std::to_string(p->sent) + " pings answered, expected " +
                        std::to_string(want) + " of " + std::to_string(want));
    char buf[160];
    std::snprintf(buf, sizeof buf, "rtt min/avg/max = %.3f/%.3f/%.3f ms, %d/%d replies", p->min, p->avg, p->max,
                  p->received, p->sent);
    return Outcome{p->avg, "ms", buf};
}

}  // namespace ctrbench
