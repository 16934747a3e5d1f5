// Where results go. The CSV gets one row per run, appended and flushed as the run completes, so a
// crash loses nothing; the JSON beside it holds the host metadata and the raw samples.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "harness/record.h"

namespace ctrbench {

std::string csv_escape(const std::string& field);
// A run's own row (`probe` empty); its probes' rows: csv_probe_row.
std::string csv_row(const RunRecord& r, const std::string& probe = "");
std::string csv_probe_row(const RunRecord& run, const ProbeResult& p);
std::string csv_header();

class CsvSink {
public:
    // Appends to an existing file when its header matches, else refuses (never mixes formats).
    static Result<CsvSink> open(const std::filesystem::path& path);
    CsvSink(CsvSink&& o) noexcept : path_(std::move(o.path_)), f_(std::exchange(o.f_, nullptr)) {}
    ~CsvSink();
    // The run's row and its probes' rows, written and flushed to the kernel before it returns.
    Status write(const RunRecord& r);
    const std::filesystem::path& path() const { return path_; }

private:
    CsvSink(std::filesystem::path p, FILE* f) : path_(std::move(p)), f_(f) {}
    std::filesystem::path path_;
    FILE* f_ = nullptr;
};

// Reads a results CSV back: one map column -> value per row. A last line cut short (a crash while
// writing) is cut off the file first, so that appending continues on a clean line.
Result<std::vector<std::map<std::string, std::string>>> read_csv(const std::filesystem::path& path);
// A row of read_csv back as a record (what the CSV holds; detail and wall time are not in it).
RunRecord record_from_row(const std::map<std::string, std::string>& row);
// A probe's row (a nonempty `probe` column) back as the probe (its detail is only in the JSON);
// nullopt for a run's own row.
std::optional<ProbeResult> probe_from_row(const std::map<std::string, std::string>& row);
// Splits one CSV line written by csv_row (quoted fields, "" for a quote).
std::vector<std::string> csv_fields(const std::string& line);

// Written atomically (temp file + rename) so a reader never sees half a file.
Status write_json(const std::filesystem::path& path, const nlohmann::json& doc);

// results/foo.csv -> results/foo.json
std::filesystem::path metadata_path(const std::filesystem::path& csv);

}  // namespace ctrbench
