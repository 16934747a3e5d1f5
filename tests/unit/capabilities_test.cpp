#include "drivers/lean/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

using namespace ctrbench;

TEST(Capabilities, DockerDefaultSet) {
    auto m = lean::capability_mask({});
    ASSERT_TRUE(m);
    // The value Docker's default set shows as CapEff in /proc/<pid>/status.
    EXPECT_EQ(*m, 0xa80425fbULL);
    EXPECT_FALSE(*m & (1ULL << CAP_SYS_ADMIN));
    EXPECT_FALSE(*m & (1ULL << CAP_NET_ADMIN));
}

TEST(Capabilities, AddByNameAnyCase) {
    auto m = lean::capability_mask({"net_admin", "CAP_SYS_PTRACE"});
    ASSERT_TRUE(m);
    EXPECT_TRUE(*m & (1ULL << CAP_NET_ADMIN));
    EXPECT_TRUE(*m & (1ULL << CAP_SYS_PTRACE));
}

TEST(Capabilities, UnknownNameIsAnError) {
    auto m = lean::capability_mask({"FLY"});
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("unknown capability 'FLY'"), std::string::npos);
}
