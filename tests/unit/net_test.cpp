// Parsing of ping's summary (busybox and iputils) and the network workloads' contract.
#include "workloads/net.h"

#include <gtest/gtest.h>

#include "workloads/throughput.h"

using namespace ctrbench;

TEST(Ping, ParsesBusybox) {
    auto p = parse_ping(
        "PING 10.213.0.1 (10.213.0.1): 56 data bytes\n...\n--- 10.213.0.1 ping statistics ---\n"
        "3 packets transmitted, 3 packets received, 0% packet loss\n"
        "round-trip min/avg/max = 0.047/0.065/0.081 ms\n");
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->sent, 3);
    EXPECT_EQ(p->received, 3);
    EXPECT_DOUBLE_EQ(p->min, 0.047);
    EXPECT_DOUBLE_EQ(p->avg, 0.065);
    EXPECT_DOUBLE_EQ(p->max, 0.081);
}

TEST(Ping, ParsesIputils) {
    auto p = parse_ping(
        "--- 172.17.0.1 ping statistics ---\n10 packets transmitted, 9 received, 10% packet loss, time 460ms\n"
        "rtt min/avg/max/mdev = 0.040/0.050/0.160/0.010 ms\n");
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->sent, 10);
    EXPECT_EQ(p->received, 9);
    EXPECT_DOUBLE_EQ(p->max, 0.160);
}

TEST(Ping, LostRepliesAndGarbageAreErrors) {
    PingWorkload w;
    ExecResult r;
    r.exit_code = 0;
    r.out = "3 packets transmitted, 2 packets received\nround-trip min/avg/max = 1/2/3 ms\n";
    auto c = w.check(r, "3");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message(), "2 of 3 pings answered, expected 3 of 3");
    r.out = "ping: sendto: Operation not permitted\n";
    EXPECT_FALSE(parse_ping(r.out));
    r.out = "3 packets transmitted, 3 packets received\nround-trip min/avg/max = 0.010/0.020/0.030 ms\n";
    auto ok = w.check(r, "3");
    ASSERT_TRUE(ok);
    EXPECT_DOUBLE_EQ(ok->value, 0.020);
    EXPECT_EQ(ok->unit, "ms");
    EXPECT_EQ(ok->detail, "rtt min/avg/max = 0.010/0.020/0.030 ms, 3/3 replies");
}

TEST(Ping, AsksForItsOwnLinkAndNetRawOnly) {
    PingWorkload w;
    ContainerSpec spec;
    ASSERT_TRUE(w.prepare(spec, "5"));
    EXPECT_EQ(spec.network, NetworkMode::Own);
    EXPECT_EQ(spec.add_caps, std::vector<std::string>{"NET_RAW"});
    auto argv = w.command("5");
    EXPECT_EQ(argv.back(), "{host}");  // the host end of the container's link, nothing else
    EXPECT_FALSE(w.prepare(spec, "0"));
    Capabilities none;
    EXPECT_EQ(w.unsupported(none, "/"), "the driver gives its containers no network link of their own");
    none.no_network_why = "runsc runs with --network=none";
    EXPECT_EQ(w.unsupported(none, "/"), "runsc runs with --network=none");
}

TEST(Http, PublishesItsPortOnTheContainersOwnNetwork) {
    HttpWorkload w;
    ContainerSpec spec;
    ASSERT_TRUE(w.prepare(spec, ""));
    EXPECT_EQ(spec.network, NetworkMode::Own);
    EXPECT_EQ(spec.publish, std::vector<int>{80});
    EXPECT_TRUE(spec.add_caps.empty());
    EXPECT_TRUE(w.awaits_response());
}

TEST(Throughput, ConcurrencyIsChecked) {
    ThroughputWorkload w;
    ContainerSpec spec;
    EXPECT_TRUE(w.prepare(spec, "4"));
    EXPECT_FALSE(w.prepare(spec, "0"));
    EXPECT_FALSE(w.prepare(spec, "257"));
    EXPECT_TRUE(w.measures_itself());
    EXPECT_EQ(w.default_runs(), 3);
}
