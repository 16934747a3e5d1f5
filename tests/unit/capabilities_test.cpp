#include "drivers/common/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

using namespace ctrbench;

TEST(Capabilities, DockerDefaultSetWithoutNetRaw) {
    auto m = capability_mask({});
    ASSERT_TRUE(m);
    // Docker's default set shows as CapEff 00000000a80425fb in /proc/<pid>/status; without NET_RAW (bit 13):
    EXPECT_EQ(*m, 0xa80405fbULL);
    EXPECT_FALSE(*m & (1ULL << CAP_NET_RAW));
    EXPECT_FALSE(*m & (1ULL << CAP_SYS_ADMIN));
    EXPECT_FALSE(*m & (1ULL << CAP_NET_ADMIN));
}

TEST(Capabilities, NetRawOnlyWhenAsked) {
    auto m = capability_mask({"NET_RAW"});
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, 0xa80425fbULL);
}

TEST(Capabilities, AddByNameAnyCase) {
    auto m = capability_mask({"net_admin", "CAP_SYS_PTRACE"});
    ASSERT_TRUE(m);
    EXPECT_TRUE(*m & (1ULL << CAP_NET_ADMIN));
    EXPECT_TRUE(*m & (1ULL << CAP_SYS_PTRACE));
}

TEST(Capabilities, UnknownNameIsAnError) {
    auto m = capability_mask({"FLY"});
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("unknown capability 'FLY'"), std::string::npos);
}
