// Runs an engine's command-line tool and collects what it said: for the drivers whose native
// interface is a CLI (the OCI runtimes, podman). Output is captured, the run is bounded by a timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace ctrbench {

struct ProcessResult {
    int exit_code = -1;
    int signal = 0;
    bool timed_out = false;
    std::string out, err;
    bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
    // "crun start x: exit 1: <first line of stderr>"
    std::string describe(const std::vector<std::string>& argv) const;
};

// Spawns argv (argv[0] looked up on PATH), stdin from /dev/null, waits at most `timeout`; on
// timeout the process is killed. An Error only when it could not be started at all.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Like run_process, but a non-zero exit is an Error carrying the tool's own message.
Result<ProcessResult> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// The full path of `name` on PATH, or "" if absent.
std::string find_program(const std::string& name);

}  // namespace ctrbench
