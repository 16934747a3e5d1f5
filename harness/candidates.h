// The candidate file (candidates.yml): every configuration of the matrix, the sets each manager
// can be combined with, the rules no candidate may break, and what each runtime and storage driver
// needs from a host. Loading validates it; evaluate() says whether a host can run a candidate.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "harness/record.h"

namespace ctrbench {

struct CandidateDef {
    std::string name;
    Candidate columns;  // manager (the harness's driver), runtime, storage, image, cgroup, rootless
    int thesis = 0;     // row of the thesis's table, 0 = ours
};

struct ManagerDef {
    std::set<std::string> runtimes, storage, rootless;
};

struct Requirement {  // what a runtime or storage driver needs from the host
    std::string program, filesystem, device, missing;
};

struct Rule {  // a candidate matching every `when` must have one of `require`'s values for each key
    std::map<std::string, std::string> when;
    std::map<std::string, std::set<std::string>> require;
    std::string why;
};

struct Estimate {  // seconds per run, for the time a plan is expected to take
    std::map<std::string, double> container, workload;
    double reconfigure = 30;
};

struct CandidateFile {
    std::map<std::string, ManagerDef> managers;
    std::map<std::string, Requirement> runtimes, storage;
    std::set<std::string> images, cgroups, rootless;
    std::vector<Rule> rules;
    Estimate estimate;
    std::vector<CandidateDef> candidates;

    const CandidateDef* find(const std::string& name) const;
};

// Parses and validates; the error names the first problem and the candidate it is in.
Result<CandidateFile> parse_candidates(const std::string& yaml_text);
Result<CandidateFile> load_candidates(const std::filesystem::path& path);

// The component of a candidate by key: manager, runtime, storage, image, cgroup, rootless.
std::string component(const Candidate& c, const std::string& key);

// What is known about a host, gathered once (host_probe.h) or written by hand in tests.
struct HostFacts {
    std::string cgroup = "v1";          // the hierarchy containers get: v1 (incl. hybrid) or v2
    std::string cgroup_switch;          // why the host cannot switch cgroup version; empty = it can
    std::set<std::string> filesystems;  // /proc/filesystems
    std::set<std::string> programs;     // found on PATH
    std::set<std::string> devices;      // device nodes present
    std::set<std::string> images;       // built images
    // "docker/crun" (or "lean") -> "" when the driver can run here, else why not. A manager with
    // no entry has no driver in ctrbench.
    std::map<std::string, std::string> drivers;
    std::set<std::string> rootless_drivers;  // drivers that can run rootless
};

// "" when the host can run the candidate (possibly after its playbook reconfigures an engine),
// else the one-line reason it is skipped.
std::string evaluate(const CandidateFile& file, const CandidateDef& cand, const HostFacts& host);

// The candidates a --matrix argument selects, in file order: "all"; a filter of key=value pairs
// joined by "," (values joined by "|": "manager=docker,storage=overlay2|vfs"); or names joined by ",".
Result<std::vector<const CandidateDef*>> select_candidates(const CandidateFile& file, const std::string& spec);

}  // namespace ctrbench
