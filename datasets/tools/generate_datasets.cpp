// ctrbench-datasets [--out DIR] [--seed N]: generates every dataset of the I/O workloads (five TPC-C
// databases, five file sets with their tars), printing each one's size and time and the total.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "datasets/datasets.h"

using namespace ctrbench;
using Clock = std::chrono::steady_clock;

// NOLINTNEXTLINE(bugprone-exception-escape): an exception ends the tool with its message, which is right here
int main(int argc, char** argv) {
    CLI::App app{"Generate every dataset of ctrbench's I/O workloads (deterministic for a seed), and time it."};
    std::string out = CTRBENCH_DATA_DIR;
    std::uint64_t seed = datasets::kDefaultSeed;
    bool force = false;
    app.add_option("--out", out, "where to write them")->capture_default_str();
    app.add_option("--seed", seed, "generator seed")->capture_default_str();
    app.add_flag("--force", force, "generate again even when cached");
    CLI11_PARSE(app, argc, argv);
    if (force) std::filesystem::remove_all(out);
    auto t0 = Clock::now();
    auto secs = [](Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); };
    for (const auto& size : datasets::tpcc_sizes()) {
        auto t = Clock::now();
        auto p = datasets::ensure_tpcc(out, size.name, seed);
        if (!p) return std::fprintf(stderr, "ctrbench-datasets: %s\n", p.error().message().c_str()), 1;
        auto bytes = std::filesystem::file_size(*p);
        std::printf("tpcc-%-8s %12ju bytes (thesis %ju, %+.1f%%) in %6.2f s\n", size.name.c_str(),
                    static_cast<uintmax_t>(bytes), static_cast<uintmax_t>(size.bytes),
                    100.0 * (double(bytes) - double(size.bytes)) / double(size.bytes), secs(t));
    }
    for (int count : datasets::file_counts()) {
        auto t = Clock::now();
        auto p = datasets::ensure_files(out, count, seed);
        if (!p) return std::fprintf(stderr, "ctrbench-datasets: %s\n", p.error().message().c_str()), 1;
        std::printf("files-%-7d %12ju bytes of tar          in %6.2f s\n", count,
                    static_cast<uintmax_t>(std::filesystem::file_size(*p / "files.tar")), secs(t));
    }
    double total = secs(t0);
    std::printf("all datasets in %.1f s (goal: under 120 s on a 2-core machine)%s\n", total,
                force ? "" : " (cached ones are not generated again: --force to time a full generation)");
    return 0;
}
