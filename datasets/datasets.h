// Deterministic datasets of the thesis's I/O workloads (section 4.2.2), generated, never downloaded:
// SQLite databases with the TPC-C schema in five sizes, and sets of small random files with an
// uncompressed tar of each. The same seed gives byte-identical files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace ctrbench::datasets {

namespace fs = std::filesystem;

inline constexpr std::uint64_t kDefaultSeed = 20200601;
// Bump when the generators change what they write: cached datasets are then made again.
inline constexpr int kGeneratorVersion = 1;

struct TpccSize {
    std::string name;     // the --param value: "151.6kB"
    std::uint64_t bytes;  // the thesis's size
    double scale;         // fraction of one full TPC-C warehouse (3000 customers per district, 100000 items)
};
// The thesis's five database sizes, with the scale that gives each (calibrated, within 10%).
const std::vector<TpccSize>& tpcc_sizes();
// The thesis's file counts: 10, 100, 1000, 10000, 100000.
const std::vector<int>& file_counts();

using Progress = std::function<void(const std::string& what, double fraction)>;

// Writes a TPC-C database at `scale` to `path` (replacing it); `progress` hears the fraction done.
Status write_tpcc(const fs::path& path, double scale, std::uint64_t seed,
                  const std::function<void(double)>& progress = {});
// Writes `count` files of 4096 random alphanumeric bytes, no two alike, into `dir`, and an
// uncompressed tar of them at `tar` (libarchive; sorted names, mtime 0, owner 0).
Status write_files(const fs::path& dir, const fs::path& tar, int count, std::uint64_t seed,
                   const Progress& progress = {});

// The dataset a workload parameter needs, made under `root` unless already there for this seed and
// generator version. Returns the path to mount: root/tpcc-<size>.sqlite, or root/files-<count>
// (holding files/ and files.tar).
Result<fs::path> ensure_tpcc(const fs::path& root, const std::string& size, std::uint64_t seed,
                             const Progress& progress = {});
Result<fs::path> ensure_files(const fs::path& root, int count, std::uint64_t seed, const Progress& progress = {});

}  // namespace ctrbench::datasets
