#include "harness/engine_setup.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/process.h"
#include "harness/host_metadata.h"

namespace ctrbench {
namespace fs = std::filesystem;

std::unique_ptr<Driver> make_driver(const DriverRegistry& drivers, const Candidate& c) {
    return drivers.runtimes(c.driver).empty() ? drivers.make(c.driver) : drivers.make(c.driver, c.runtime);
}

std::map<std::string, std::string> candidate_settings(const DriverRegistry& drivers, const CandidateFile& file) {
    std::map<std::string, std::string> out;
    for (const auto& c : file.candidates) {
        auto d = make_driver(drivers, c.columns);
        if (!d) continue;
        if (auto s = d->engine_setting_for(c.columns.storage)) out[c.name] = s->key();
    }
    return out;
}

EngineState current_settings(const DriverRegistry& drivers, const std::set<std::string>& managers) {
    EngineState out;
    for (const auto& name : drivers.names())
        if (auto d = managers.empty() || managers.contains(name) ? drivers.make(name) : nullptr)
            if (auto s = d->current_engine_setting()) out[s->engine] = s->key();
    return out;
}

Status apply_playbook(const fs::path& playbooks, const std::string& candidate, const fs::path& log) {
    auto book = playbooks / "candidates" / (candidate + ".yml");
    if (!fs::exists(book)) return fail_msg("no playbook " + book.string());
    if (find_program("ansible-playbook").empty())
        return fail_msg("ansible-playbook is not installed (apt-get install ansible-core)");
    auto r = run_process({"env", "ANSIBLE_CONFIG=" + (playbooks / "ansible.cfg").string(), "ansible-playbook", "-i",
                          (playbooks / "inventory" / "localhost.ini").string(), book.string()},
                         std::chrono::minutes(20));
    std::ofstream out(log, std::ios::app);
    out << "== " << utc_now() << " ansible-playbook " << book.string() << "\n";
    if (r) out << r->out << r->err;
    if (!r) return fail(std::move(r.error()));
    if (!r->ok())
        return fail_msg("its playbook " + book.string() + " failed (" + r->describe({"ansible-playbook"}) +
                        "; log: " + log.string() + ")");
    return {};
}

void restore_engines(const EngineState& original, EngineState& state, const CandidateFile& file,
                     const std::map<std::string, std::string>& settings, const fs::path& playbooks, const fs::path& log,
                     bool interrupted) {
    for (const auto& [engine, cfg] : original) {
        if (state[engine] == cfg) continue;
        std::string back;  // the first candidate (in file order) that needs the original setting
        for (const auto& c : file.candidates)
            if (auto it = settings.find(c.name); it != settings.end() && it->second == cfg) {
                back = c.name;
                break;
            }
        if (back.empty()) {
            std::fprintf(stderr, "harness: warning: %s was %s before the matrix; no candidate restores it\n",
                         engine.c_str(), cfg.c_str());
            continue;
        }
        if (interrupted) {  // no 20-second playbook after a Ctrl-C: say how instead
            std::fprintf(stderr,
                         "harness: %s is left configured for the last candidate; to put it back as it was (%s): "
                         "ansible-playbook playbooks/candidates/%s.yml\n",
                         engine.c_str(), cfg.c_str(), back.c_str());
            continue;
        }
        std::printf("restoring %s to %s (playbooks/candidates/%s.yml)\n", engine.c_str(), cfg.c_str(), back.c_str());
        if (auto s = apply_playbook(playbooks, back, log); !s)
            std::fprintf(stderr, "harness: warning: restoring %s: %s\n", engine.c_str(), s.error().message().c_str());
        else
            state[engine] = cfg;
    }
}

PlaybookMounts::PlaybookMounts(fs::path state_dir) : dir_(std::move(state_dir)), before_(mounted_now()) {}

std::set<std::string> PlaybookMounts::mounted_now() const {
    std::set<std::string> out;
    std::ifstream in("/proc/self/mounts");
    std::string dev, mnt, rest;
    while (in >> dev >> mnt && std::getline(in, rest))
        if (fs::path(mnt).parent_path() == dir_) out.insert(mnt);
    return out;
}

void PlaybookMounts::release() const {
    for (const auto& mnt : mounted_now()) {
        if (before_.contains(mnt)) continue;
        if (::umount2(mnt.c_str(), 0) == 0)
            std::printf("unmounted %s (mounted by a candidate's playbook)\n", mnt.c_str());
        else if (errno == EBUSY)
            std::fprintf(stderr,
                         "harness: %s stays mounted (an engine still uses it); umount it once that is restored\n",
                         mnt.c_str());
        else
            std::fprintf(stderr, "harness: warning: umount %s: %s\n", mnt.c_str(), std::strerror(errno));
    }
}

std::size_t sweep_dead_runs(Driver& driver) {
    auto removed = driver.sweep_dead();
    for (const auto& what : removed)
        std::fprintf(stderr, "harness: removed %s (left by a ctrbench run that is gone)\n", what.c_str());
    return removed.size();
}

}  // namespace ctrbench
