#include "workloads/io.h"

#include "datasets/datasets.h"

namespace ctrbench {
namespace {

constexpr const char* kAgent = "/usr/bin/ctrbench-agent";

std::vector<std::string> db_sizes() {
    std::vector<std::string> v;
    for (const auto& s : datasets::tpcc_sizes()) v.push_back(s.name);
    return v;
}

std::vector<std::string> counts() {
    std::vector<std::string> v;
    for (int c : datasets::file_counts()) v.push_back(std::to_string(c));
    return v;
}

Result<std::vector<BindMount>> db_mount(const std::string& param, const std::filesystem::path& root, const Workload::Progress& p) {
    auto path = datasets::ensure_tpcc(root, param, datasets::kDefaultSeed, p);
    if (!path) return fail(std::move(path.error()));
    return std::vector<BindMount>{{*path, "/data/db.sqlite", true}};
}

Result<std::vector<BindMount>> files_mount(const std::string& param, const std::filesystem::path& root, const Workload::Progress& p) {
    auto dir = datasets::ensure_files(root, std::stoi(param), datasets::kDefaultSeed, p);
    if (!dir) return fail(std::move(dir.error()));
    return std::vector<BindMount>{{*dir, "/data", true}};
}

// The agent exited 0 and says it handled at least `at_least` units; the figure is the outcome.
Result<Outcome> expect_count(const ExecResult& r, const std::string& verb, const std::string& unit, long long at_least,
                             long long exactly = -1) {
    if (auto s = expect_success(r); !s) return fail(std::move(s.error()));
    long long n = count_after(r.out, verb);
    if (n < at_least || (exactly >= 0 && n != exactly))
        return fail_msg("expected " + (exactly >= 0 ? std::to_string(exactly) : "at least " + std::to_string(at_least)) + " " +
                        unit + ", the agent said: " + r.out.substr(0, 120));
    return Outcome{static_cast<double>(n), unit, ""};
}

// The native forms. Table names come from sqlite_master; row counts from the output, so a tool that
// silently did nothing fails the check.
constexpr const char* kNativeSqliteRead =
    "n=0; for t in $(sqlite3 /data/db.sqlite \"select name from sqlite_master where type='table'\"); do "
    "c=$(sqlite3 /data/db.sqlite \"select * from $t\" | wc -l) || exit 1; n=$((n+c)); done; echo \"read $n rows\"";
constexpr const char* kNativeSqliteWrite =
    "cp /data/db.sqlite /var/tmp/db.sqlite || exit 1; "
    "tables=$(sqlite3 /var/tmp/db.sqlite \"select name from sqlite_master where type='table'\") || exit 1; "
    "sql='BEGIN;'; cnt='select 0'; for t in $tables; do sql=\"$sql create table ${t}_copy as select * from $t;\"; "
    "cnt=\"$cnt + (select count(*) from ${t}_copy)\"; done; "
    "sqlite3 /var/tmp/db.sqlite \"$sql COMMIT;\" || exit 1; echo \"wrote $(sqlite3 /var/tmp/db.sqlite \"$cnt\") rows\"";
constexpr const char* kNativeFilesRead =
    "b=$(find /data/files -type f -exec cat {} + | wc -c) || exit 1; echo \"read $((b / 4096)) files ($b bytes)\"";
constexpr const char* kNativeTarExtract =
    "mkdir -p /var/tmp/extract && tar -xf /data/files.tar -C /var/tmp/extract || exit 1; "
    "echo \"extracted $(find /var/tmp/extract -type f | wc -l) files\"";

std::vector<std::string> shell(const char* script) { return {"/bin/sh", "-c", script}; }

}  // namespace

std::string missing_tools(const std::filesystem::path& rootfs, const std::vector<std::string>& tools) {
    std::string missing;
    for (const auto& t : tools) {
        bool found = false;
        for (const char* dir : {"bin", "usr/bin"}) {
            std::error_code ec;
            found = found || std::filesystem::exists(rootfs / dir / t, ec);
        }
        if (!found) missing += (missing.empty() ? "" : ", ") + t;
    }
    return missing.empty() ? "" : "the image has no " + missing + " for --tools native";
}

std::string SqliteReadWorkload::unsupported(const Capabilities&, const std::filesystem::path& rootfs) const {
    return native_ ? missing_tools(rootfs, {"sh", "sqlite3", "wc"}) : "";
}
std::string SqliteWriteWorkload::unsupported(const Capabilities&, const std::filesystem::path& rootfs) const {
    return native_ ? missing_tools(rootfs, {"sh", "sqlite3", "cp"}) : "";
}
std::string FilesReadWorkload::unsupported(const Capabilities&, const std::filesystem::path& rootfs) const {
    return native_ ? missing_tools(rootfs, {"sh", "find", "cat", "wc"}) : "";
}
std::string TarExtractWorkload::unsupported(const Capabilities&, const std::filesystem::path& rootfs) const {
    return native_ ? missing_tools(rootfs, {"sh", "tar", "find", "wc"}) : "";
}

long long count_after(const std::string& out, const std::string& verb) {
    auto pos = out.find(verb + " ");
    if (pos == std::string::npos) return -1;
    try {
        return std::stoll(out.substr(pos + verb.size() + 1));
    } catch (...) {
        return -1;
    }
}

std::vector<std::string> SqliteReadWorkload::param_values() const { return db_sizes(); }
Result<std::vector<BindMount>> SqliteReadWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                        const Progress& p) const {
    return db_mount(param, root, p);
}
std::vector<std::string> SqliteReadWorkload::command(const std::string&) const {
    if (native_) return shell(kNativeSqliteRead);
    return {kAgent, "sqlite-read", "/data/db.sqlite"};
}
Result<Outcome> SqliteReadWorkload::check(const ExecResult& r, const std::string&) const { return expect_count(r, "read", "rows", 1); }

std::vector<std::string> SqliteWriteWorkload::param_values() const { return db_sizes(); }
Result<std::vector<BindMount>> SqliteWriteWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                         const Progress& p) const {
    return db_mount(param, root, p);
}
std::vector<std::string> SqliteWriteWorkload::command(const std::string&) const {
    if (native_) return shell(kNativeSqliteWrite);
    return {kAgent, "sqlite-write", "/data/db.sqlite", "/var/tmp/db.sqlite"};
}
Result<Outcome> SqliteWriteWorkload::check(const ExecResult& r, const std::string&) const { return expect_count(r, "wrote", "rows", 1); }

std::vector<std::string> FilesReadWorkload::param_values() const { return counts(); }
Result<std::vector<BindMount>> FilesReadWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                       const Progress& p) const {
    return files_mount(param, root, p);
}
std::vector<std::string> FilesReadWorkload::command(const std::string&) const {
    if (native_) return shell(kNativeFilesRead);
    return {kAgent, "files-read", "/data/files"};
}
Result<Outcome> FilesReadWorkload::check(const ExecResult& r, const std::string& param) const {
    return expect_count(r, "read", "files", 0, std::stoll(param));
}

std::vector<std::string> TarExtractWorkload::param_values() const { return counts(); }
Result<std::vector<BindMount>> TarExtractWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                        const Progress& p) const {
    return files_mount(param, root, p);
}
std::vector<std::string> TarExtractWorkload::command(const std::string&) const {
    if (native_) return shell(kNativeTarExtract);
    return {kAgent, "tar-extract", "/data/files.tar", "/var/tmp/extract"};
}
Result<Outcome> TarExtractWorkload::check(const ExecResult& r, const std::string& param) const {
    return expect_count(r, "extracted", "files", 0, std::stoll(param));
}

}  // namespace ctrbench
