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
    return driver + "/" + runtime + "/" + storage + "/" + image + "/" + cgroup + "/" + rootless;
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

std::string csv_row(const RunRecord& r) {
    const std::vector<std::string> f = {
        r.run_id, r.time, r.host, r.candidate.name(), r.candidate.driver, r.candidate.runtime, r.candidate.storage,
        r.candidate.image, r.candidate.cgroup, r.candidate.rootless, r.workload, r.param, std::to_string(r.iteration),
        r.warmup ? "1" : "0", fmt_ms(r.create_ms), fmt_ms(r.start_ms), fmt_ms(r.exec_ms), fmt_ms(r.stop_ms),
        fmt_ms(r.clean_ms), fmt_ms(r.response_ms), fmt_ms(r.value), r.unit, r.status, r.error};
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + csv_escape(f[i]);
    return out;
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

Status CsvSink::write(const RunRecord& r) {
    if (std::fprintf(f_, "%s\n", csv_row(r).c_str()) < 0 || std::fflush(f_) != 0) return fail_sys("write " + path_.string());
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
