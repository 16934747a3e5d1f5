// The matrix's side effects on the host, kept apart from its planning: candidates' playbooks run
// to change an engine-wide setting (Driver::engine_setting_for), the engines put back as they were
// found at the end, and the filesystems those playbooks mounted under the project's state directory
// unmounted again. No engine is named here: the drivers say which settings they have.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "drivers/driver.h"
#include "harness/candidates.h"

namespace ctrbench {

// Engine -> its setting's key ("docker" -> "docker:overlay2").
using EngineState = std::map<std::string, std::string>;

// The setting each candidate needs, by candidate name ("" or absent: none), asked of its driver.
std::map<std::string, std::string> candidate_settings(const DriverRegistry& drivers, const CandidateFile& file);
// The settings the engines of this host have now: those of the drivers in `managers` (empty: all).
EngineState current_settings(const DriverRegistry& drivers, const std::set<std::string>& managers = {});
// The one driver a candidate runs on (a manager's runtime given when the manager has several).
std::unique_ptr<Driver> make_driver(const DriverRegistry& drivers, const Candidate& c);

// Before a driver's first run: what ctrbench runs killed with -9 left on its engine (their owner
// gone) is removed, and each thing said on stderr; returns how many.
std::size_t sweep_dead_runs(Driver& driver);

// Runs `playbooks/candidates/<name>.yml` against this host; its output goes to `log`.
Status apply_playbook(const std::filesystem::path& playbooks, const std::string& candidate,
                      const std::filesystem::path& log);

// Puts every engine whose setting is not `original`'s back, through the playbook of a candidate
// that needs the original setting; after Ctrl-C only says how. `state` is updated.
void restore_engines(const EngineState& original, EngineState& state, const CandidateFile& file,
                     const std::map<std::string, std::string>& settings, const std::filesystem::path& playbooks,
                     const std::filesystem::path& log, bool interrupted);

// Filesystems mounted directly under ctrbench's state directory (/var/lib/ctrbench/<x>: the btrfs
// loop file of the btrfs candidates) while the matrix ran: unmounted at the end unless in use.
class PlaybookMounts {
public:
    explicit PlaybookMounts(std::filesystem::path state_dir = "/var/lib/ctrbench");
    // Unmounts what was not there when this was made; one that is busy (an engine still keeps its
    // data there) stays, and the user is told.
    void release() const;

private:
    std::set<std::string> mounted_now() const;
    std::filesystem::path dir_;
    std::set<std::string> before_;
};

}  // namespace ctrbench
