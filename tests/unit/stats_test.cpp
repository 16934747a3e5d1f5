#include "harness/stats.h"

#include <gtest/gtest.h>

using namespace ctrbench;

TEST(Stats, EmptyGivesZeros) {
    auto s = summarize({});
    EXPECT_EQ(s.n, 0u);
    EXPECT_EQ(s.mean, 0);
    EXPECT_EQ(s.stddev, 0);
    EXPECT_EQ(s.outliers, 0u);
}

TEST(Stats, SingleSampleHasNoSpread) {
    auto s = summarize({4.0});
    EXPECT_EQ(s.n, 1u);
    EXPECT_DOUBLE_EQ(s.mean, 4.0);
    EXPECT_DOUBLE_EQ(s.median, 4.0);
    EXPECT_DOUBLE_EQ(s.p95, 4.0);
    EXPECT_EQ(s.stddev, 0);
}

TEST(Stats, KnownValues) {
    std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
    auto s = summarize(v);
    EXPECT_DOUBLE_EQ(s.mean, 5.0);
    EXPECT_NEAR(s.stddev, 2.138089935, 1e-9);  // sample (n-1) standard deviation
    EXPECT_DOUBLE_EQ(s.median, 4.5);
    EXPECT_DOUBLE_EQ(s.min, 2);
    EXPECT_DOUBLE_EQ(s.max, 9);
    EXPECT_NEAR(s.p95, 8.3, 1e-9);  // linear interpolation at rank 0.95 * 7 = 6.65
}

TEST(Stats, MedianOfOddAndEven) {
    EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
    EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
}

TEST(Stats, OutlierByModifiedZScore) {
    std::vector<double> v = {10, 10.1, 9.9, 10.05, 9.95, 10.02, 50};
    auto s = summarize(v);
    EXPECT_EQ(s.outliers, 1u);
    auto z = modified_z_scores(v);
    EXPECT_GT(z.back(), kOutlierThreshold);
}

TEST(Stats, ZeroMadMeansNoOutliers) {
    // More than half the samples equal: MAD = 0, the modified Z-score is undefined; report none.
    auto s = summarize({1, 1, 1, 1, 100});
    EXPECT_EQ(s.outliers, 0u);
}

TEST(Stats, AllZeroMean) {
    auto s = summarize({0, 0, 0});
    EXPECT_EQ(s.mean, 0);
    EXPECT_EQ(s.stddev, 0);
}
