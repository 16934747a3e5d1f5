// Runs one workload with one parameter on one driver: warmups, then measured runs, each timed
// through the five phases; records go to the sink as each run completes.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "harness/record.h"
#include "harness/result_sink.h"
#include "workloads/workload.h"

namespace ctrbench {

struct RunOptions {
    int runs = 20;
    int warmup = 3;
    std::chrono::milliseconds timeout{60'000};
    std::string image = "minimal";
    bool seccomp = true;  // ContainerSpec::seccomp
    bool userns = false;  // ContainerSpec::userns
    std::filesystem::path images_dir;
    std::filesystem::path data_dir;  // generated datasets are cached here
    std::string run_id, host;
    int max_consecutive_errors = 3;  // then the workload is abandoned: the next run would fail alike
    // Resuming: runs already recorded (they are not redone; iterations continue after them).
    int warmup_done = 0, runs_done = 0, consecutive_errors = 0;
    std::optional<Candidate> candidate;  // the matrix's candidate; else made from the driver's probe
};

struct Progress {
    // Called before each run: k of n, warmup or not.
    std::function<void(int k, int n, bool warmup)> on_run;
    // Called while a dataset is generated: its name and how far along (0..1).
    std::function<void(const std::string& what, double fraction)> on_data;
};

// The rootfs of a built image, or an error telling how to build it.
Result<std::filesystem::path> image_rootfs(const std::filesystem::path& images_dir, const std::string& image);

// Runs and returns every record (warmups included, flagged). Errors inside a run become error
// records; only a failure of the sink itself is returned as an error.
Result<std::vector<RunRecord>> run_workload(Driver& driver, const Probe& probe, const Workload& workload,
                                            const std::string& param, const RunOptions& opts, CsvSink& sink,
                                            const Progress& progress);

}  // namespace ctrbench
