#include "harness/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ctrbench {

double mean(const std::vector<double>& v) {
    if (v.empty()) return 0;
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double sample_stddev(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    double m = mean(v), acc = 0;
    for (double x : v) acc += (x - m) * (x - m);
    return std::sqrt(acc / static_cast<double>(v.size() - 1));
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
    auto lo = static_cast<std::size_t>(std::floor(rank));
    auto hi = static_cast<std::size_t>(std::ceil(rank));
    return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

double median(const std::vector<double>& v) {
    return percentile(v, 50);
}

std::vector<double> modified_z_scores(const std::vector<double>& v) {
    std::vector<double> z(v.size(), 0.0);
    if (v.empty()) return z;
    double med = median(v);
    std::vector<double> dev;
    dev.reserve(v.size());
    for (double x : v) dev.push_back(std::abs(x - med));
    double mad = median(dev);
    if (mad == 0) return z;
    for (std::size_t i = 0; i < v.size(); ++i) z[i] = 0.6745 * (v[i] - med) / mad;
    return z;
}

Summary summarize(const std::vector<double>& v) {
    Summary s;
    s.n = v.size();
    if (v.empty()) return s;
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    s.min = *lo;
    s.max = *hi;
    s.mean = mean(v);
    s.stddev = sample_stddev(v);
    s.median = median(v);
    s.p95 = percentile(v, 95);
    for (double z : modified_z_scores(v))
        if (std::abs(z) > kOutlierThreshold) ++s.outliers;
    return s;
}

}  // namespace ctrbench
