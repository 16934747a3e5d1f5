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
    return Outcome{static_cast<double>(n), unit};
}

}  // namespace

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
std::vector<std::string> SqliteReadWorkload::command(const std::string&) const { return {kAgent, "sqlite-read", "/data/db.sqlite"}; }
Result<Outcome> SqliteReadWorkload::check(const ExecResult& r, const std::string&) const { return expect_count(r, "read", "rows", 1); }

std::vector<std::string> SqliteWriteWorkload::param_values() const { return db_sizes(); }
Result<std::vector<BindMount>> SqliteWriteWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                         const Progress& p) const {
    return db_mount(param, root, p);
}
std::vector<std::string> SqliteWriteWorkload::command(const std::string&) const {
    return {kAgent, "sqlite-write", "/data/db.sqlite", "/var/tmp/db.sqlite"};
}
Result<Outcome> SqliteWriteWorkload::check(const ExecResult& r, const std::string&) const { return expect_count(r, "wrote", "rows", 1); }

std::vector<std::string> FilesReadWorkload::param_values() const { return counts(); }
Result<std::vector<BindMount>> FilesReadWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                       const Progress& p) const {
    return files_mount(param, root, p);
}
std::vector<std::string> FilesReadWorkload::command(const std::string&) const { return {kAgent, "files-read", "/data/files"}; }
Result<Outcome> FilesReadWorkload::check(const ExecResult& r, const std::string& param) const {
    return expect_count(r, "read", "files", 0, std::stoll(param));
}

std::vector<std::string> TarExtractWorkload::param_values() const { return counts(); }
Result<std::vector<BindMount>> TarExtractWorkload::data(const std::string& param, const std::filesystem::path& root,
                                                        const Progress& p) const {
    return files_mount(param, root, p);
}
std::vector<std::string> TarExtractWorkload::command(const std::string&) const {
    return {kAgent, "tar-extract", "/data/files.tar", "/var/tmp/extract"};
}
Result<Outcome> TarExtractWorkload::check(const ExecResult& r, const std::string& param) const {
    return expect_count(r, "extracted", "files", 0, std::stoll(param));
}

}  // namespace ctrbench
