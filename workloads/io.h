// The thesis's I/O workloads (section 4.2.2), run by the static agent so every image and driver runs
// the same code. Datasets are bound read-only under /data; writes go to the container's own
// filesystem (/var/tmp), so the storage driver is what sqlite-write and tar-extract measure.
// With --tools native the image's own sqlite3, tar, find and cat do the same work through /bin/sh and
// print the same summary line, so the same check applies.
#pragma once

#include <memory>

#include "workloads/workload.h"

namespace ctrbench {

// What tells one I/O workload from another: the same class runs all four.
struct IoWorkloadSpec {
    enum class Dataset { Database, Files };  // a TPC-C database ("db"), or N small files and their tar ("count")
    std::string name, description;
    Dataset dataset;
    std::vector<std::string> agent_argv;    // the agent's command
    const char* native_script;              // the --tools native form, run by /bin/sh -c
    std::vector<std::string> native_tools;  // the programs that form needs in the image
    std::string verb, unit;                 // the summary line "<verb> <n> <unit>"
    bool count_is_param;                    // n must equal the parameter (files), else be at least 1 (rows)
};

class IoWorkload final : public Workload {
public:
    explicit IoWorkload(IoWorkloadSpec spec) : spec_(std::move(spec)) {}
    std::string name() const override { return spec_.name; }
    std::string description() const override { return spec_.description; }
    std::string param_name() const override;
    std::vector<std::string> param_values() const override;
    Result<std::vector<BindMount>> data(const std::string& param, const std::filesystem::path& root,
                                        const Progress& p) const override;
    std::vector<std::string> command(const std::string& param) const override;
    Result<Outcome> check(const ExecResult& r, const std::string& param) const override;
    bool has_native_tools() const override { return true; }
    std::string unsupported(const Capabilities& caps, const std::filesystem::path& rootfs) const override;

private:
    IoWorkloadSpec spec_;
};

// sqlite-read, sqlite-write, files-read, tar-extract.
std::vector<std::unique_ptr<Workload>> io_workloads();

// With --tools native, the image must have these programs (searched in /bin, /usr/bin).
std::string missing_tools(const std::filesystem::path& rootfs, const std::vector<std::string>& tools);

// "read 1234 rows (…)" -> 1234: the first number after `verb`, or -1.
long long count_after(const std::string& out, const std::string& verb);

}  // namespace ctrbench
