#include "harness/result_sink.h"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace ctrbench {
namespace {

std::string fmt_ms(const std::optional<double>& v) {
    if (!v) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", *v);
    return buf;
}

}  // namespace

std::string Candidate::name() const {
    return driver + "-" + runtime + "-" + storage + "-" + image + "-" + cgroup + "-" + rootless;
}

std::optional<double> ready_ms(const RunRecord& r) {
    if (!r.create_ms || !r.start_ms || !r.exec_ms) return std::nullopt;
    return *r.create_ms + *r.start_ms + *r.exec_ms + r.response_ms.value_or(0);
}

std::optional<double> total_ms(const RunRecord& r) {
    auto ready = ready_ms(r);
    if (!ready || !r.stop_ms || !r.clean_ms) return std::nullopt;
    return *ready + *r.stop_ms + *r.clean_ms;
}

std::string csv_escape(const std::string& field) {
    bool quote = field.find_first_of(",\"\n\r") != std::string::npos;
    if (!quote) return field;
    std::string out = "\"";
    for (char c : field) {
        if (c == '"') out += '"';
        out += c == '\n' || c == '\r' ? ' ' : c;
    }
    return out + "\"";
}

std::string csv_header() {
    std::string out;
    for (const auto& c : csv_columns()) out += (out.empty() ? "" : ",") + c;
    return out;
}

std::string csv_row(const RunRecord& r, const std::string& probe) {
    const std::vector<std::string> f = {r.run_id,
                                        r.time,
                                        r.host,
                                        r.candidate.name(),
                                        r.candidate.driver,
                                        r.candidate.runtime,
                                        r.candidate.storage,
                                        r.candidate.image,
                                        r.candidate.cgroup,
                                        r.candidate.rootless,
                                        r.workload,
                                        r.param,
                                        std::to_string(r.iteration),
                                        r.warmup ? "1" : "0",
                                        fmt_ms(r.create_ms),
                                        fmt_ms(r.start_ms),
                                        fmt_ms(r.exec_ms),
                                        fmt_ms(r.stop_ms),
                                        fmt_ms(r.clean_ms),
                                        fmt_ms(r.response_ms),
                                        fmt_ms(r.value),
                                        r.unit,
                                        std::string(to_string(r.status)),
                                        r.error,
                                        probe};
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + csv_escape(f[i]);
    return out;
}

RunRecord record_from_row(const std::map<std::string, std::string>& row) {
    auto get = [&](const char* k) {
        auto it = row.find(k);
        return it == row.end() ? std::string() : it->second;
    };
    auto ms = [&](const char* k) -> std::optional<double> {
        auto v = get(k);
        if (v.empty()) return std::nullopt;
        try {
            return std::stod(v);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    };
    RunRecord r;
    r.run_id = get("run_id");
    r.time = get("time");
    r.host = get("host");
    r.candidate = {get("driver"), get("runtime"), get("storage"), get("image"), get("cgroup"), get("rootless")};
    r.workload = get("workload");
    r.param = get("param");
    r.iteration = std::atoi(get("iteration").c_str());
    r.warmup = get("warmup") == "1";
    r.create_ms = ms("create_ms");
    r.start_ms = ms("start_ms");
    r.exec_ms = ms("exec_ms");
    r.stop_ms = ms("stop_ms");
    r.clean_ms = ms("clean_ms");
    r.response_ms = ms("response_ms");
    r.value = ms("value");
    r.unit = get("unit");
    r.error = get("error");
    if (auto st = parse_run_status(get("status")))
        r.status = *st;
    else {  // a file edited by hand or written by a newer ctrbench: kept, as a failed run
        r.status = RunStatus::Error;
        r.error = "status '" + get("status") + "' unknown to this ctrbench" + (r.error.empty() ? "" : ": " + r.error);
    }
    return r;
}

std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                out.back() += '"', ++i;
            else if (c == '"')
                quoted = false;
            else
                out.back() += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

Result<std::vector<std::map<std::string, std::string>>> read_csv(const std::filesystem::path& path) {
    std::string text;
    {
        std::ifstream in(path, std::ios::binary);
        if (!in) return fail_sys("open " + path.string());
        std::ostringstream s;
        s << in.rdbuf();
        text = s.str();
    }
    if (!text.empty() && text.back() != '\n') {
        auto keep = text.rfind('\n');
        keep = keep == std::string::npos ? 0 : keep + 1;
        std::error_code ec;
        std::filesystem::resize_file(path, keep, ec);
        if (ec) return fail(Error::sys(ec.value(), "cut the partial last line of " + path.string()));
        text.resize(keep);
    }
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != csv_header())
        return fail_msg(path.string() + " is not a ctrbench results file (its header differs)");
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto f = csv_fields(line);
        if (f.size() != csv_columns().size())
            return fail_msg(path.string() + ": row " + std::to_string(rows.size() + 1) + " has " +
                            std::to_string(f.size()) + " fields, not " + std::to_string(csv_columns().size()));
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < f.size(); ++i) row[csv_columns()[i]] = f[i];
        rows.push_back(std::move(row));
    }
    return rows;
}

Result<CsvSink> CsvSink::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return fail(Error::sys(ec.value(), "create directory " + path.parent_path().string()));
    bool exists = std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
    if (exists) {
        std::ifstream in(path);
        std::string first;
        std::getline(in, first);
        if (first != csv_header())
            return fail_msg("results file " + path.string() + " exists with other columns; choose another --out");
    }
    FILE* f = std::fopen(path.c_str(), "ae");
    if (!f) return fail_sys("open " + path.string());
    CsvSink sink(path, f);
    if (!exists) {
        std::fprintf(f, "%s\n", csv_header().c_str());
        std::fflush(f);
    }
    return sink;
}

CsvSink::~CsvSink() {
    if (f_) std::fclose(f_);
}

std::string csv_probe_row(const RunRecord& run, const ProbeResult& p) {
    RunRecord row;
    row.run_id = run.run_id;
    row.time = run.time;
    row.host = run.host;
    row.candidate = run.candidate;
    row.workload = run.workload;
    row.param = run.param;
    row.iteration = run.iteration;
    row.warmup = run.warmup;
    if (p.verdict != ProbeResult::Verdict::Untried) {
        row.value = p.verdict == ProbeResult::Verdict::Blocked ? 1 : 0;
        row.unit = "blocked";
    } else {
        row.status = RunStatus::Skipped;
        row.error = "not tried: " + p.detail;
    }
    return csv_row(row, p.name);
}

std::optional<ProbeResult> probe_from_row(const std::map<std::string, std::string>& row) {
    auto it = row.find("probe");
    if (it == row.end() || it->second.empty()) return std::nullopt;
    ProbeResult p;
    p.name = it->second;
    auto value = row.find("value");
    if (value != row.end() && !value->second.empty())
        p.verdict = value->second[0] == '1' ? ProbeResult::Verdict::Blocked : ProbeResult::Verdict::Allowed;
    else if (auto err = row.find("error"); err != row.end())
        p.detail = err->second.substr(err->second.starts_with("not tried: ") ? 11 : 0);
    return p;
}

Status CsvSink::write(const RunRecord& r) {
    std::string text = csv_row(r) + "\n";
    for (const auto& p : r.probes) text += csv_probe_row(r, p) + "\n";
    if (std::fputs(text.c_str(), f_) < 0 || std::fflush(f_) != 0) return fail_sys("write " + path_.string());
    return {};
}

Status write_json(const std::filesystem::path& path, const nlohmann::json& doc) {
    auto tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp);
        if (!out) return fail_sys("open " + tmp.string());
        out << doc.dump(2) << "\n";
        if (!out) return fail_sys("write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return fail(Error::sys(ec.value(), "rename " + tmp.string()));
    return {};
}

std::filesystem::path metadata_path(const std::filesystem::path& csv) {
    auto p = csv;
    p.replace_extension(".json");
    return p;
}

}  // namespace ctrbench
