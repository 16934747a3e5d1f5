// How one measured run ended: the CSV's status column. The one definition of the set and of which
// statuses count as a failed run (the exit code of every harness path is decided by it).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace ctrbench {

enum class RunStatus {
    Ok,           // every phase succeeded and the workload's check passed
    Error,        // a phase or the check failed
    Timeout,      // the workload's command ran past its timeout
    Oom,          // the container's memory limit killed the workload
    Interrupted,  // Ctrl-C or SIGTERM cut the run short: redone on resume, not a failure
    Skipped,      // the candidate or workload cannot run here; the row says why
};

std::string_view to_string(RunStatus s);  // "ok", "error", "timeout", "oom", "interrupted", "skipped"
std::optional<RunStatus> parse_run_status(std::string_view s);
// A run that measured nothing because something failed: error, timeout, oom.
bool is_failure(RunStatus s);
std::ostream& operator<<(std::ostream& os, RunStatus s);

}  // namespace ctrbench
