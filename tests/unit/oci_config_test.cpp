#include "drivers/common/oci_config.h"

#include <gtest/gtest.h>

using namespace ctrbench;

namespace {
ContainerSpec spec() {
    ContainerSpec s;
    s.name = "ctrbench-1-0";
    s.rootfs = "/images/minimal/rootfs";
    return s;
}
bool has_namespace(const nlohmann::json& c, const std::string& t) {
    for (const auto& n : c["linux"]["namespaces"])
        if (n["type"] == t) return true;
    return false;
}
}  // namespace

TEST(OciConfig, SameProcessLimitsAndCapabilitiesAsEveryDriver) {
    auto c = oci::make_config(spec(), {"ctrbench-1-0"});
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ((*c)["ociVersion"], "1.0.2");
    EXPECT_EQ((*c)["process"]["args"], nlohmann::json(kIdleInit));
    EXPECT_TRUE((*c)["process"]["noNewPrivileges"].get<bool>());
    EXPECT_EQ((*c)["hostname"], "ctrbench-1-0");
    auto& r = (*c)["linux"]["resources"];
    EXPECT_EQ(r["memory"]["limit"], 1ULL << 30);
    EXPECT_EQ(r["cpu"]["quota"], 100000);
    EXPECT_EQ(r["cpu"]["period"], 100000);
    EXPECT_EQ(r["pids"]["limit"], 1024);
    EXPECT_EQ((*c)["linux"]["cgroupsPath"], "ctrbench-1-0");
    auto caps = (*c)["process"]["capabilities"]["bounding"];
    EXPECT_EQ(caps.size(), 13u);  // Docker's default set without NET_RAW
    EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_NET_RAW"), caps.end());
    EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), caps.end());
    for (const char* ns : {"pid", "ipc", "uts", "mount", "network"}) EXPECT_TRUE(has_namespace(*c, ns)) << ns;
    EXPECT_FALSE((*c)["root"]["readonly"].get<bool>());
}

TEST(OciConfig, ReadOnlyRootGetsAWritableTmp) {
    auto s = spec();
    s.read_only_rootfs = true;
    auto c = oci::make_config(s, {});
    ASSERT_TRUE(c);
    EXPECT_TRUE((*c)["root"]["readonly"].get<bool>());
    bool tmp = false;
    for (const auto& m : (*c)["mounts"]) tmp |= m["destination"] == "/tmp" && m["type"] == "tmpfs";
    EXPECT_TRUE(tmp);
    EXPECT_FALSE(c->at("linux").contains("cgroupsPath"));
}

TEST(OciConfig, HostNetworkHasNoNetworkNamespaceAndBindsAreRbind) {
    auto s = spec();
    s.network = NetworkMode::Host;
    s.mounts.push_back({"/srv/db", "/data", true});
    auto c = oci::make_config(s, {});
    ASSERT_TRUE(c);
    EXPECT_FALSE(has_namespace(*c, "network"));
    auto& last = (*c)["mounts"].back();
    EXPECT_EQ(last["destination"], "/data");
    EXPECT_EQ(last["options"][0], "rbind");
    EXPECT_EQ(last["options"][1], "ro");
}

TEST(OciConfig, InvalidSpecIsRejected) {
    auto s = spec();
    s.name = "";
    EXPECT_FALSE(oci::make_config(s, {}));
}
