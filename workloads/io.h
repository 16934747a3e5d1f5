// The thesis's I/O workloads (section 4.2.2), run by the static agent so every image and driver runs
// the same code. Datasets are bound read-only under /data; writes go to the container's own
// filesystem (/var/tmp), so the storage driver is what sqlite-write and tar-extract measure.
// With --tools native the image's own sqlite3, tar, find and cat do the same work through /bin/sh and
// print the same summary line, so the same check applies.
#pragma once

#include "workloads/workload.h"

namespace ctrbench {

class SqliteReadWorkload final : public Workload {
public:
    std::string name() const override { return "sqlite-read"; }
    std::string description() const override { return "select every row of every table of a TPC-C SQLite database"; }
    std::string param_name() const override { return "db"; }
    std::vector<std::string> param_values() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root, const Progress& p) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool has_native_tools() const override { return true; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
};

class SqliteWriteWorkload final : public Workload {
public:
    std::string name() const override { return "sqlite-write"; }
    std::string description() const override { return "copy a TPC-C database into the container and duplicate every table"; }
    std::string param_name() const override { return "db"; }
    std::vector<std::string> param_values() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root, const Progress& p) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool has_native_tools() const override { return true; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
};

class FilesReadWorkload final : public Workload {
public:
    std::string name() const override { return "files-read"; }
    std::string description() const override { return "read every one of N files of 4096 random bytes"; }
    std::string param_name() const override { return "count"; }
    std::vector<std::string> param_values() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root, const Progress& p) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool has_native_tools() const override { return true; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
};

class TarExtractWorkload final : public Workload {
public:
    std::string name() const override { return "tar-extract"; }
    std::string description() const override { return "extract an uncompressed tar of N small files into the container"; }
    std::string param_name() const override { return "count"; }
    std::vector<std::string> param_values() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root, const Progress& p) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool has_native_tools() const override { return true; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;
};

// With --tools native, the image must have these programs (searched in /bin, /usr/bin).
std::string missing_tools(const std::filesystem::path& rootfs, const std::vector<std::string>& tools);

// "read 1234 rows (…)" -> 1234: the first number after `verb`, or -1.
long long count_after(const std::string& out, const std::string& verb);

}  // namespace ctrbench
