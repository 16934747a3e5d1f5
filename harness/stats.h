// Summary statistics of raw samples, hyperfine-style: small named functions with their edge cases.
#pragma once

#include <cstddef>
#include <vector>

namespace ctrbench {

struct Summary {
    std::size_t n = 0;
    double min = 0, max = 0, mean = 0, stddev = 0, median = 0, p95 = 0;
    std::size_t outliers = 0;  // samples with |modified Z-score| > 3.5
};

double mean(const std::vector<double>& v);           // 0 for no samples
double sample_stddev(const std::vector<double>& v);  // n-1 denominator; 0 when n < 2
double percentile(std::vector<double> v, double p);  // linear interpolation, p in [0, 100]
double median(const std::vector<double>& v);
// Modified Z-scores (Iglewicz & Hoaglin 1993, "How to Detect and Handle Outliers"): 0.6745 (x - median) / MAD.
// All zero when the MAD is zero.
std::vector<double> modified_z_scores(const std::vector<double>& v);
inline constexpr double kOutlierThreshold = 3.5;  // the threshold Iglewicz & Hoaglin recommend
Summary summarize(const std::vector<double>& v);

}  // namespace ctrbench
