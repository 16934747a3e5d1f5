#include "workloads/checkpoint.h"

#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/process.h"

namespace ctrbench {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRoleCriu =
    "/usr/local/lib/ctrbench/criu";  // the criu role's static build (CTRBENCH_CRIU: another)
constexpr const char* kRoleEnv = "/usr/local/lib/ctrbench/criu.env";
constexpr const char* kKdat = "/dev/shm/criu.kdat";  // the kernel-probe cache of a criu built with RUNDIR=/dev/shm
constexpr const char* kScratch = "/dev/shm";         // the images: on tmpfs, as the seed's
constexpr const char* kAgent = "/usr/bin/ctrbench-agent";
constexpr const char* kEngineFile = "checkpoint.tar";  // an engine's checkpoint of the whole container

// An ELF executable with no program interpreter: it runs in any image.
bool static_elf(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    Elf64_Ehdr eh{};
    if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        return false;
    for (int i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        in.seekg(static_cast<std::streamoff>(eh.e_phoff + static_cast<std::uint64_t>(i) * eh.e_phentsize));
        if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
        if (ph.p_type == PT_INTERP) return false;
    }
    return true;
}

// criu's last "Error ..." line of `out`, else its first line.
std::string last_error(const std::string& out) {
    std::istringstream in(out);
    std::string line, first, last;
    while (std::getline(in, line)) {
        if (first.empty()) first = line;
        if (line.find("Error") != std::string::npos) last = line;
    }
    auto said = one_line(last.empty() ? first : last);
    if (said.ends_with(':')) said.pop_back();  // "... capability: " + the fix on the next line
    return said;
}

// What the woken process said: its memory as before the dump, its socket listening and reachable.
Status check_woken(const std::string& out, const std::string& param) {
    const std::string who = "the restored " + param + " MB process";
    if (out.find(" ok ") == std::string::npos)
        return fail_msg(who + " did not find its memory as it was before the dump: " + one_line(out));
    if (out.find("listen unreachable") != std::string::npos)
        return fail_msg(who +
                        "'s socket listens, but 127.0.0.1 does not reach it (the restored network namespace's "
                        "loopback is down)");
    if (out.find("listen ok") == std::string::npos)
        return fail_msg(who + " lost its listening socket: " + one_line(out));
    return {};
}

}  // namespace

std::optional<long long> agent_field(const std::string& out, const std::string& key) {
    std::istringstream in(out);
    std::string word;
    while (in >> word)
        if (word == key) {
            long long v = 0;
            if (in >> v) return v;
        }
    return std::nullopt;
}

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s.substr(0, 300);
}

Result<CriuForContainers> criu_for_containers() {
    // Asked by every run's unsupported() and prepare(): looked at once per binary, `criu check` included.
    static std::mutex mu;
    static std::map<std::string, Result<CriuForContainers>> seen;
    const char* given = std::getenv("CTRBENCH_CRIU");
    const std::string path = given && *given ? given : kRoleCriu;
    std::lock_guard lock(mu);
    if (auto it = seen.find(path); it != seen.end()) return it->second;
    auto look = [&]() -> Result<CriuForContainers> {
        const std::string setup = "ansible-playbook playbooks/criu.yml, or ./ctrbench.sh setup, builds one";
        if (!fs::exists(path)) return fail_msg("criu is not installed for containers (no " + path + "; " + setup + ")");
        if (!static_elf(path))
            return fail_msg(path + " is not a static criu: a container's image has no libraries for it (" + setup +
                            ")");
        CriuForContainers c;
        c.binary = path;
        std::ifstream env(kRoleEnv);
        for (std::string line; std::getline(env, line);)
            if (line == "CRIU_FAULT=130") c.no_breakpoints = true;
        auto v = run_process({path, "--version"}, std::chrono::seconds(10));
        if (!v || v->exit_code != 0 || v->out.find("Version:") == std::string::npos)
            return fail_msg(path + " --version fails: it is not a criu that runs here");
        c.version = v->out.substr(v->out.find(':') + 2);
        c.version = c.version.substr(0, c.version.find('\n'));
        auto check = run_process({path, "check"}, std::chrono::seconds(30));
        if (!check || check->exit_code != 0) {
            return fail_msg("criu check fails with " + path + ": " +
                            (check ? last_error(check->err + check->out) : check.error().message()));
        }
        return c;
    };
    return seen.emplace(path, look()).first->second;
}

std::uint64_t CheckpointWorkload::memory_limit(long mb) {
    // The process, criu's own, and the images on tmpfs (charged to the container that dumps; restoring
    // them, an eager restore needs about as much again: measured, 1024 MB OOMs at 1024 + 256).
    const std::uint64_t need = (static_cast<std::uint64_t>(mb) * 2 + 256) << 20;
    return std::max<std::uint64_t>(Limits{}.memory_bytes, need);
}

std::string CheckpointWorkload::unsupported(const Capabilities& caps, const fs::path& rootfs) const {
    if (!caps.checkpoint && !caps.engine_checkpoint)
        return "no CRIU path: its containers cannot run CRIU, and " +
               (caps.checkpoint_why.empty() ? std::string("its engine cannot checkpoint a container")
                                            : caps.checkpoint_why);
    if (!fs::exists(rootfs / "usr/bin/ctrbench-agent")) return "the image has no /usr/bin/ctrbench-agent";
    if (!caps.checkpoint) return lazy_ ? "its engine restores whole containers, without criu lazy-pages" : "";
    return criu_unsupported(caps);
}

Status criu_in_container(ContainerSpec& spec, const std::string& who) {
    if (spec.userns) return fail_msg(who + " runs CRIU as the container's root: not with a user namespace");
    auto criu = criu_for_containers();
    if (!criu) return fail(std::move(criu.error()));
    // What CRIU does in the container: ptrace and parasite code (SYS_PTRACE), namespaces and mounts
    // (SYS_ADMIN), pids (CHECKPOINT_RESTORE), the time namespace's offsets (SYS_TIME), netlink (NET_ADMIN).
    for (const char* cap : {"SYS_ADMIN", "SYS_PTRACE", "CHECKPOINT_RESTORE", "SYS_TIME", "NET_ADMIN"})
        if (!adds_capability(spec, cap)) spec.add_caps.emplace_back(cap);
    spec.seccomp = false;
    if (criu->no_breakpoints) spec.env.emplace_back("CRIU_FAULT=130");
    spec.mounts.push_back({criu->binary, CheckpointWorkload::kCriu, true});
    if (fs::exists(kKdat)) spec.mounts.push_back({kKdat, kKdat, true});
    return {};
}

std::string criu_unsupported(const Capabilities& caps) {
    if (!caps.unconfined_seccomp) return "CRIU needs its containers without a seccomp filter, which it cannot give";
    if (auto c = criu_for_containers(); !c) return c.error().message();
    return "";
}

namespace {

constexpr const char* kKernelStamp = "kernel";  // beside the images: the release of the kernel that made them

std::string this_kernel() {
    struct utsname u {};
    return ::uname(&u) == 0 ? u.release : "";
}

// The container an engine dumps, and the one it restores into: docker makes the restored one from
// the spec, so it needs the same memory and network (podman takes the checkpoint's config).
ContainerSpec engine_container(ContainerSpec spec, const std::string& param) {
    spec.limits.memory_bytes = CheckpointWorkload::memory_limit(std::stol(param));
    // The engine's own network: restored with `--network none`, podman leaves the loopback down.
    spec.network = NetworkMode::Own;
    return spec;
}

}  // namespace

Status stamp_kernel(const fs::path& images) {
    const auto path = images / kKernelStamp;
    if (std::ofstream out(path); !(out << this_kernel() << "\n")) return fail_sys("write " + path.string());
    return {};
}

Status made_on_this_kernel(const ContainerSpec& spec) {
    const auto images = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](const BindMount& m) {
        return m.target == CheckpointWorkload::kImages && m.read_only;
    });
    if (images == spec.mounts.end()) return {};  // the dump's own container: nothing to restore yet
    std::ifstream in(images->source / kKernelStamp);
    std::string made;
    if (!std::getline(in, made) || made.empty())
        return fail_msg("the checkpoint in " + images->source.string() + " does not say which kernel made it (no " +
                        kKernelStamp + " file): not a checkpoint ctrbench made");
    if (const auto here = this_kernel(); made != here)
        return fail_msg("the checkpoint in " + images->source.string() + " was made on kernel " + one_line(made) +
                        ", this host runs " + here + ": a CRIU checkpoint is restored only on the kernel that made it");
    return {};
}

Result<std::filesystem::path> images_directory(const std::string& what) {
    fs::path dir = fs::path(kScratch) / owned_name(what);
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!fs::create_directory(dir, ec)) return fail(Error::sys(ec.value(), "create " + dir.string()));
    fs::permissions(dir, fs::perms::owner_all, ec);
    return dir;
}

Status CheckpointWorkload::prepare(ContainerSpec& spec, const std::string& param) const {
    if (!accepts(param)) return fail_msg(name() + " mem must be a number of MB from 1 to 8192, got '" + param + "'");
    if (auto s = criu_in_container(spec, name()); !s) return s;
    if (auto s = made_on_this_kernel(spec); !s) return s;
    spec.limits.memory_bytes = memory_limit(std::stol(param));
    return {};
}

std::vector<std::string> CheckpointWorkload::sweep_dead() {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kScratch, ec)) {
        const auto name = e.path().filename().string();
        const bool images =
            name.find("-checkpoint-") != std::string::npos || name.find("-service-") != std::string::npos;
        if (!images || !owner_gone(name)) continue;
        if (fs::remove_all(e.path(), ec) > 0) removed.push_back("checkpoint images " + e.path().string());
    }
    return removed;
}

Result<Workload::Setup> CheckpointWorkload::setup(Driver& driver, const ContainerSpec& base,
                                                  const std::string& param) const {
    (void)sweep_dead();
    const bool engine = !driver.capabilities().checkpoint;
    if (!engine)
        if (auto criu = criu_for_containers(); !criu) return fail(std::move(criu.error()));
    // criu_for_containers ran `criu check`: the kernel-probe cache is fresh, given to every container read-only.
    auto made = images_directory(name() + "-" + param);
    if (!made) return fail(std::move(made.error()));
    const fs::path dir = *made;
    std::shared_ptr<void> keep(nullptr, [dir](void*) {
        std::error_code e;
        fs::remove_all(dir, e);
    });
    ContainerSpec spec = base;
    if (!accepts(param)) return fail_msg(name() + " mem must be a number of MB from 1 to 8192, got '" + param + "'");
    if (engine) {
        spec = engine_container(spec, param);
    } else if (auto s = prepare(spec, param); !s) {
        return fail(std::move(s.error()));
    } else {
        spec.mounts.push_back({dir, kImages, false});
    }
    auto c = driver.create(spec);
    if (!c) return fail(std::move(c.error()).wrap("the dump's container"));
    auto finish = [&](Status st) -> Status {
        auto stopped = (*c)->stop();
        auto cleaned = (*c)->clean();
        if (!st) return st;
        return !stopped ? stopped : cleaned;
    };
    if (auto s = (*c)->start(); !s) return fail(finish(std::move(s)).error().wrap("the dump's container"));
    auto touched = (*c)->exec({kAgent, "memtouch", param, kWork}, spec.timeout);
    if (!touched || !touched->ok()) {
        auto why = !touched ? touched.error() : expect_success(*touched).error();
        return fail(finish(fail(std::move(why))).error().wrap("start the process to dump"));
    }
    auto pid = agent_field(touched->out, "pid");
    if (!pid) return fail(finish(fail_msg("memtouch said no pid: " + one_line(touched->out))).error());
    double dump_ms = 0;
    if (engine) {  // the engine dumps the whole container into a file, which every run restores
        const auto t0 = std::chrono::steady_clock::now();
        auto st = (*c)->checkpoint(dir / kEngineFile);
        dump_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (auto s = finish(std::move(st)); !s) return fail(std::move(s.error()));
        if (std::ofstream out(dir / "pid"); !(out << *pid << "\n")) return fail_sys("write " + (dir / "pid").string());
    } else {  // criu inside the container
        auto dumped = (*c)->exec({kAgent, "criu-dump", std::to_string(*pid), kImages, kWork}, spec.timeout);
        Status st;
        if (!dumped)
            st = fail(std::move(dumped.error()));
        else if (!dumped->ok())
            st = fail_msg("criu dump of a " + param + " MB process: " + one_line(dumped->err));
        if (auto s = finish(std::move(st)); !s) return fail(std::move(s.error()));
        auto us = agent_field(dumped->out, "dump_us");
        if (!us) return fail_msg("criu-dump said no time: " + one_line(dumped->out));
        dump_ms = static_cast<double>(*us) / 1000.0;
    }
    if (auto s = stamp_kernel(dir); !s) return fail(std::move(s.error()));
    Setup out;
    out.mounts.push_back({dir, kImages, true});  // read-only for the runs; measure() finds an engine's file there
    out.figures["dump_ms"] = dump_ms;
    out.keep = std::move(keep);
    return out;
}

std::map<std::string, std::string> CheckpointWorkload::versions() const {
    if (auto c = criu_for_containers(); c) return {{"criu", c->version}};
    return {};
}

Workload::Reference CheckpointWorkload::reference() const {
    // Seed 002's "Reference Performance" (images on tmpfs), in ms; "container_ms" is its lean container.
    const std::vector<std::string> mb = {"1", "4", "16", "64", "256", "1024"};
    auto row = [&](std::vector<double> v) {
        std::map<std::string, double> m;
        for (std::size_t i = 0; i < mb.size(); ++i) m[mb[i]] = v[i];
        return m;
    };
    return {"seed 002",
            {{"dump_ms", row({12.7, 14.4, 21.5, 46.5, 158.2, 514.9})},
             {"container_ms", row({6, 6, 6, 6, 6, 6})},
             {"restore_ms", row({5, 5, 5.2, 5.2, 5.2, 5.6})},
             {"execution_ms", row({0.72, 3, 12.7, 55, 188, 744})}}};
}

Result<Outcome> CheckpointWorkload::measure(Driver& driver, const ContainerSpec& base, const std::string& param) const {
    const auto images =
        std::find_if(base.mounts.begin(), base.mounts.end(), [](const BindMount& m) { return m.target == kImages; });
    if (images == base.mounts.end()) return fail_msg("no checkpoint was made for this run (no setup)");
    if (auto s = made_on_this_kernel(base); !s) return fail(std::move(s.error()));
    std::ifstream pid_in(images->source / "pid");
    long pid = 0;
    if (!(pid_in >> pid)) return fail_msg("the checkpoint has no pid file in " + images->source.string());
    const auto t0 = std::chrono::steady_clock::now();
    auto c = driver.restore(engine_container(base, param), images->source / kEngineFile);
    const auto t1 = std::chrono::steady_clock::now();
    if (!c) return fail(std::move(c.error()));
    auto r = (*c)->exec({kAgent, "memtouch-wake", std::to_string(pid), kWork, std::to_string(base.timeout.count())},
                        base.timeout);
    auto stopped = (*c)->stop();
    auto cleaned = (*c)->clean();
    if (!r) return fail(std::move(r.error()));
    if (!r->ok()) return fail_msg("wake the restored " + param + " MB process: " + one_line(r->err));
    if (auto s = check_woken(r->out, param); !s) return fail(std::move(s.error()));
    if (!stopped) return fail(std::move(stopped.error()));
    if (!cleaned) return fail(std::move(cleaned.error()));
    auto exec = agent_field(r->out, "exec_us");
    if (!exec) return fail_msg("memtouch-wake said no time: " + one_line(r->out));
    const double restore = std::chrono::duration<double, std::milli>(t1 - t0).count();
    Outcome o{restore, "ms restore", "engine restore (its container included); " + one_line(r->out)};
    o.figures = {{"restore_ms", restore}, {"execution_ms", static_cast<double>(*exec) / 1000.0}};
    return o;
}

std::vector<std::string> CheckpointWorkload::command(const std::string&) const {
    return {kAgent, "criu-restore", kImages, kWork, lazy_ ? "lazy" : "eager"};
}

Result<Outcome> CheckpointWorkload::check(const ExecResult& r, const std::string& param) const {
    if (!r.ok()) return fail_msg("criu restore of the " + param + " MB process: " + one_line(r.err));
    auto us = agent_field(r.out, "restore_us");
    if (!us) return fail_msg("criu-restore said no time: " + one_line(r.out));
    return Outcome{static_cast<double>(*us) / 1000.0, "ms restore", one_line(r.out)};
}

Result<Outcome> CheckpointWorkload::await_response(Container& c, const std::string& param,
                                                   std::chrono::milliseconds deadline) const {
    auto r = c.exec({kAgent, "checkpoint-wake", kWork, std::to_string(deadline.count())}, deadline);
    if (!r) return fail(std::move(r.error()));
    if (!r->ok()) return fail_msg("wake the restored " + param + " MB process: " + one_line(r->err));
    if (auto s = check_woken(r->out, param); !s) return fail(std::move(s.error()));
    auto restore = agent_field(r->out, "restore_us");
    auto exec = agent_field(r->out, "exec_us");
    if (!restore || !exec) return fail_msg("checkpoint-wake said no times: " + one_line(r->out));
    Outcome o{static_cast<double>(*restore) / 1000.0, "ms restore", one_line(r->out)};
    o.figures = {{"restore_ms", static_cast<double>(*restore) / 1000.0},
                 {"execution_ms", static_cast<double>(*exec) / 1000.0}};
    return o;
}

}  // namespace ctrbench
