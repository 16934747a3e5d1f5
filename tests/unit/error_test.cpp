#include "core/error.h"

#include <gtest/gtest.h>

using namespace ctrbench;

TEST(Error, ChainReadsOuterToInnerThenErrno) {
    Error e = Error::sys(ENOENT, "mount /proc");
    e.wrap("set up container x");
    EXPECT_EQ(e.message(), "set up container x: mount /proc: No such file or directory");
    EXPECT_EQ(e.err(), ENOENT);
}

TEST(Error, MessageIsOneLine) {
    EXPECT_EQ(Error::msg("bad\nthing").message(), "bad thing");
}
