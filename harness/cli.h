// The harness command line. Parsing is a pure function so it is unit-tested without running anything.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "workloads/workload.h"

namespace ctrbench {

struct Options {
    bool list = false;
    bool cleanup = false;  // remove what killed runs left behind, then exit
    std::string driver;
    std::string runtime;  // the OCI runtime under a manager driver (docker, podman); "" = its default
    std::string test = "boot";
    std::vector<std::string> params;  // "key=value"
    int runs = 20;
    int warmup = 3;
    bool runs_given = false, warmup_given = false;  // else the workload's own defaults apply, if it has any
    std::string tools = "agent";                    // agent | native (the image's own sqlite3, tar, find, cat)
    std::string seccomp = "default";                // default (the engine's filter) | unconfined (lean)
    bool userns = false;                            // a user namespace of the container's own (lean)
    double timeout_s = 60;
    std::string image = "minimal";
    std::string
        storage;  // the driver's storage (lean, OCI: overlay | tmpfs; podman: overlay | vfs | btrfs); "" = its default
    std::filesystem::path out;  // empty = results/<run id>.csv
    std::filesystem::path images_dir;
    std::filesystem::path data_dir;
    // The candidate matrix (harness --matrix): a selection of candidates.yml, run one after another.
    std::string matrix;                // "all", a filter "driver=docker,storage=btrfs", or names
    bool dry_run = false;              // print each candidate runnable or skipped, and the plan's duration
    bool quick = false;                // fewer runs, the smallest parameter of each workload
    bool setup = true;                 // may run a candidate's playbook to reconfigure an engine
    std::filesystem::path resume;      // a matrix CSV to continue
    std::filesystem::path candidates;  // candidates.yml
    std::filesystem::path playbooks;   // playbooks/ (for playbooks/candidates/<name>.yml)
    bool test_given = false, timeout_given = false, tools_given = false, image_given = false;
    bool matrix_mode() const { return !matrix.empty() || !resume.empty(); }
};

struct ParseOutcome {
    bool proceed = false;  // false: print `message` and exit with `exit_code`
    int exit_code = 0;
    std::string message;  // help text (exit 0, stdout) or one error line (exit 2, stderr)
    Options options;
};

ParseOutcome parse_cli(const std::vector<std::string>& args, const DriverRegistry& drivers,
                       const WorkloadRegistry& workloads);

}  // namespace ctrbench
