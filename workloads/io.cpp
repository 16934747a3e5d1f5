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

Result<std::vector<BindMount>> db_mount(const std::string& param, const std::filesystem::path& root,
                                        const Workload::Progress& p) {
    auto path = datasets::ensure_tpcc(root, param, datasets::kDefaultSeed, p);
    if (!path) return fail(std::move(path.error()));
    return std::vector<BindMount>{{*path, "/data/db.sqlite", true}};
}

Result<std::vector<BindMount>> files_mount(const std::string& param, const std::filesystem::path& root,
                                           const Workload::Progress& p) {
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
        return fail_msg("expected " +
                        (exactly >= 0 ? std::to_string(exactly) : "at least " + std::to_string(at_least)) + " " + unit +
                        ", the agent said: " + r.out.substr(0, 120));
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

long long count_after(const std::string& out, const std::string& verb) {
    auto pos = out.find(verb + " ");
    if (pos == std::string::npos) return -1;
    try {
        return std::stoll(out.substr(pos + verb.size() + 1));
    } catch (...) {
        return -1;
    }
}

std::string IoWorkload::param_name() const {
    return spec_.dataset == IoWorkloadSpec::Dataset::Database ? "db" : "count";
}

std::vector<std::string> IoWorkload::param_values() const {
    return spec_.dataset == IoWorkloadSpec::Dataset::Database ? db_sizes() : counts();
}

Result<std::vector<BindMount>> IoWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                const Progress& p) const {
    return spec_.dataset == IoWorkloadSpec::Dataset::Database ? db_mount(param, root, p) : files_mount(param, root, p);
}

std::vector<std::string> IoWorkload::command(const std::string&) const {
    if (native_) return {"/bin/sh", "-c", spec_.native_script};
    return spec_.agent_argv;
}

Result<Outcome> IoWorkload::check(const ExecResult& r, const std::string& param) const {
    if (spec_.count_is_param) return expect_count(r, spec_.verb, spec_.unit, 0, std::stoll(param));
    return expect_count(r, spec_.verb, spec_.unit, 1);
}

std::string IoWorkload::unsupported(const Capabilities&, const std::filesystem::path& rootfs) const {
    return native_ ? missing_tools(rootfs, spec_.native_tools) : "";
}

std::vector<std::unique_ptr<Workload>> io_workloads() {
    using D = IoWorkloadSpec::Dataset;
    std::vector<IoWorkloadSpec> specs = {
        {"sqlite-read",
         "select every row of every table of a TPC-C SQLite database",
         D::Database,
         {kAgent, "sqlite-read", "/data/db.sqlite"},
         kNativeSqliteRead,
         {"sh", "sqlite3", "wc"},
         "read",
         "rows",
         false},
        {"sqlite-write",
         "copy a TPC-C database into the container and duplicate every table",
         D::Database,
         {kAgent, "sqlite-write", "/data/db.sqlite", "/var/tmp/db.sqlite"},
         kNativeSqliteWrite,
         {"sh", "sqlite3", "cp"},
         "wrote",
         "rows",
         false},
        {"files-read",
         "read every one of N files of 4096 random bytes",
         D::Files,
         {kAgent, "files-read", "/data/files"},
         kNativeFilesRead,
         {"sh", "find", "cat", "wc"},
         "read",
         "files",
         true},
        {"tar-extract",
         "extract an uncompressed tar of N small files into the container",
         D::Files,
         {kAgent, "tar-extract", "/data/files.tar", "/var/tmp/extract"},
         kNativeTarExtract,
         {"sh", "tar", "find", "wc"},
         "extracted",
         "files",
         true},
    };
    std::vector<std::unique_ptr<Workload>> out;
    for (auto& s : specs) out.push_back(std::make_unique<IoWorkload>(std::move(s)));
    return out;
}

}  // namespace ctrbench
