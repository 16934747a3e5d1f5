#include "drivers/lxd/lxd_driver.h"

#include <archive.h>
#include <archive_entry.h>
#include <linux/capability.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "drivers/common/capabilities.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/lxc_monitor.h"
#include "drivers/common/managed_engine.h"
#include "drivers/common/veth.h"

namespace ctrbench::lxd {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
constexpr auto kVerbTimeout = 120s;
constexpr auto kExecSlice = std::chrono::milliseconds(1000);  // an exec is waited for in slices of this
// One empty file per instance this host's runs asked LXD for, from before the request until the
// instance is deleted: a run killed while LXD was still taking its request (no operation yet, no
// instance yet) leaves the name here, and the sweep waits for what LXD makes of it.
constexpr const char* kIntentDir = "/run/ctrbench/lxd";
constexpr auto kIntentSettle = std::chrono::milliseconds(3000);

fs::path intent_file(const std::string& name) {
    return fs::path(kIntentDir) / name;
}

std::string pool_for(const std::string& storage) {
    return "ctrbench-" + storage;
}

// metadata.yaml in a tar of its own: the metadata half of a split LXD image (the rootfs half is
// the image's tar as docker and podman import it).
Result<std::string> metadata_tar(const std::string& image) {
    std::ostringstream yaml;
    yaml << "architecture: x86_64\ncreation_date: " << std::time(nullptr) << "\nproperties:\n  description: ctrbench "
         << image << " image\n";
    const std::string text = yaml.str();
    std::string out(std::size_t{64} * 1024, '\0');
    std::size_t used = 0;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK) {
        archive_write_free(a);
        return fail_msg("metadata tar: cannot open");
    }
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "metadata.yaml");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(text.size()));
    const bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
                    archive_write_data(a, text.data(), text.size()) == static_cast<la_ssize_t>(text.size());
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    if (!ok) return fail_msg("metadata tar: cannot write metadata.yaml");
    out.resize(used);
    return out;
}

class LxdContainer final : public Container {
public:
    LxdContainer(LxdApi api, ContainerSpec spec) : api_(std::move(api)), spec_(std::move(spec)) {}
    // Only a failed allocation building a request could throw here, and ending the process is then right.
    // NOLINTNEXTLINE(bugprone-exception-escape)
    ~LxdContainer() override {
        (void)stop();
        (void)clean();
    }

    Status start() override {
        auto r = api_.run("PUT", path() + "/state", json{{"action", "start"}, {"timeout", 30}}, kVerbTimeout);
        if (!r) return fail(std::move(r.error()));
        started_ = true;
        auto state = api_.sync("GET", path() + "/state");
        if (!state) return fail(std::move(state.error()));
        init_pid_ = state->value("pid", -1);
        if (init_pid_ <= 0)
            return fail_msg("lxd " + spec_.name + ": started, but no first process (" + spec_.init.front() + ")");
        if (auto cg = memory_cgroup_of(init_pid_)) memory_cgroup_ = *cg;
        if (spec_.network == NetworkMode::Own) {
            auto l = attach_veth(init_pid_);
            if (!l) return fail(std::move(l.error()).wrap("lxd " + spec_.name));
            link_ = *l;
        }
        return {};
    }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        json env = json::object();
        for (const auto& e : spec_.env)
            if (auto eq = e.find('='); eq != std::string::npos) env[e.substr(0, eq)] = e.substr(eq + 1);
        json body = {{"command", argv},      {"environment", env},
                     {"cwd", spec_.workdir}, {"wait-for-websocket", false},
                     {"interactive", false}, {"record-output", true}};
        std::uint64_t oom0 = oom_kill_count(memory_cgroup_);
        ExecResult e;
        // Waited for in slices: between them, an LXD launcher wedged on a traced zombie thread of
        // the command (drivers/common/lxc_monitor.h) is killed, and the operation then ends.
        auto started = api_.http().json("POST", path() + "/exec", body);
        if (!started) return fail(std::move(started.error()));
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const std::string what = "lxd exec " + spec_.name + " " + argv.front();
        Result<json> op = fail(Error::sys(ETIMEDOUT, what));
        bool wedged = false;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            op = api_.wait(*started, what, kExecSlice);
            if (op || op.error().err() != ETIMEDOUT || left <= kExecSlice) break;
            if (kill_wedged_launchers("/usr/bin/lxd forkexec " + spec_.name + " ") > 0) wedged = true;
        }
        if (!op && wedged) {
            // The command ended; its launcher, killed, reports no exit code: what it wrote is kept.
            e.exit_code = -1;
            e.err = "ctrbench: LXD's launcher of this command waited for ever on a traced thread of it and was killed";
            const auto id = started->value("operation", "").substr(started->value("operation", "").rfind('/') + 1);
            for (const char* fd : {"stdout", "stderr"})
                if (auto log =
                        api_.http().call("GET", path() + "/logs/exec_" + id + "." + fd, "", "application/json", 60s))
                    (std::string(fd) == "stdout" ? e.out : e.err) += log->body.substr(0, ExecResult::kMaxOutput);
            e.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
            return e;
        }
        if (!op) {
            if (op.error().err() != ETIMEDOUT) return fail(std::move(op.error()));
            e.timed_out = true;  // the command still runs: stop() ends it with the instance
            e.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
            return e;
        }
        const json& meta = (*op)["metadata"];
        e.exit_code = meta.value("return", -1);
        if (meta.contains("output"))
            for (const auto& [fd, log] : meta["output"].items()) {
                auto text = api_.http().call("GET", log.get<std::string>(), "", "application/json", 60s);
                if (!text) return fail(std::move(text.error()));
                (fd == "1" ? e.out : e.err) = text->body.substr(0, ExecResult::kMaxOutput);
            }
        decode_signal_exit(e);
        e.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
        return e;
    }

    Status stop() override {
        if (!started_ || stopped_) return {};
        (void)stop_wedged_monitor(init_pid_, spec_.name);  // then LXD sees it stopped
        auto r = api_.run("PUT", path() + "/state", json{{"action", "stop"}, {"force", true}, {"timeout", 30}},
                          kVerbTimeout);
        if (!r && r.error().message().find("already stopped") == std::string::npos) return fail(std::move(r.error()));
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (cleaned_) return {};
        auto r = api_.run("DELETE", path(), nullptr, kVerbTimeout);
        if (!r && r.error().message().find("not found") == std::string::npos) return fail(std::move(r.error()));
        remove_lxc_cgroups(spec_.name);  // what LXD at times leaves (drivers/common/lxc_monitor.h)
        std::error_code ec;
        fs::remove(intent_file(spec_.name), ec);
        cleaned_ = true;
        return {};
    }

    Result<std::string> endpoint(int port) override { return link_endpoint(link_, port); }
    Result<std::string> host_end() override { return link_host_end(link_); }

private:
    std::string path() const { return "/1.0/instances/" + spec_.name; }

    LxdApi api_;
    ContainerSpec spec_;
    fs::path memory_cgroup_;
    std::optional<VethLink> link_;
    int init_pid_ = -1;
    bool started_ = false, stopped_ = false, cleaned_ = false;
};

}  // namespace

Result<json> LxdApi::sync(const std::string& method, const std::string& path, const json& body) {
    auto r = http_.json(method, path, body);
    if (!r) return fail(std::move(r.error()));
    return (*r)["metadata"];
}

Result<json> LxdApi::wait(const json& reply, const std::string& what, std::chrono::milliseconds timeout) {
    if (reply.value("type", "") != "async") return reply.value("metadata", json::object());
    const auto op = reply.value("operation", "");
    const auto secs = std::max<long>(1, static_cast<long>((timeout.count() + 999) / 1000));
    auto r = http_.json("GET", op + "/wait?timeout=" + std::to_string(secs), nullptr,
                        std::chrono::milliseconds(secs * 1000 + 5000));
    if (!r) return fail(std::move(r.error()).wrap(what));
    const json& m = (*r)["metadata"];
    const auto status = m.value("status", "");
    if (status == "Success") return m;
    if (status == "Running" || status == "Pending") return fail(Error::sys(ETIMEDOUT, what));
    return fail_msg(what + ": " + m.value("err", status));
}

Result<json> LxdApi::run(const std::string& method, const std::string& path, const json& body,
                         std::chrono::milliseconds timeout) {
    const std::string what = "lxd " + method + " " + path;
    auto r = http_.json(method, path, body);
    if (!r) return fail(std::move(r.error()));
    return wait(*r, what, timeout);
}

Capabilities LxdDriver::capabilities() const {
    Capabilities c;
    c.daemon = true;
    c.own_network = true;  // ctrbench's veth link into the instance's namespace
    return c;
}

Status LxdDriver::use_storage(const std::string& storage) {
    if (storage != "dir" && storage != "btrfs" && storage != "zfs" && storage != "lvm")
        return fail_msg("ctrbench's lxd driver has no storage " + storage + " (it has dir, btrfs, zfs, lvm)");
    storage_ = storage;
    return {};
}

Probe LxdDriver::probe() {
    Probe p;
    p.runtime = "lxc";
    p.storage = storage_;
    if (!fs::exists(api_.socket())) {
        p.reason = "lxd is not running: no socket at " + api_.socket() + " (ansible-playbook playbooks/lxd.yml)";
        return p;
    }
    if (::access(api_.socket().c_str(), R_OK | W_OK) != 0) {
        p.reason = "permission denied on " + api_.socket() + " (run as root or join the lxd group)";
        return p;
    }
    auto server = api_.sync("GET", "/1.0");
    if (!server) {
        p.reason = server.error().message();
        return p;
    }
    p.versions["lxd"] = (*server)["environment"].value("server_version", "?");
    p.versions["liblxc"] = (*server)["environment"]["driver_version"].is_string()
                               ? (*server)["environment"].value("driver_version", "?")
                               : "?";
    if (!api_.sync("GET", "/1.0/storage-pools/" + pool_for(storage_))) {
        p.reason = "LXD has no storage pool " + pool_for(storage_) + " (ansible-playbook " +
                   (storage_ == "btrfs" ? "playbooks/candidates/lxd-lxc-btrfs-minimal-v1-rootful.yml: only the btrfs "
                                          "candidates keep that pool"
                                        : "playbooks/lxd.yml") +
                   ")";
        return p;
    }
    p.available = true;
    return p;
}

Result<std::string> LxdDriver::image_alias(const ContainerSpec& spec) {
    return image_name(spec);  // docker's and podman's tag of the image, as a name
}

Status LxdDriver::prepare(const ContainerSpec& spec) {
    auto alias = image_alias(spec);
    if (!alias) return fail(std::move(alias.error()));
    if (api_.sync("GET", "/1.0/images/aliases/" + *alias)) return {};
    auto meta = metadata_tar(spec.image);
    if (!meta) return fail(std::move(meta.error()));
    const auto tar_path = spec.rootfs.parent_path() / (spec.image + ".tar");
    std::ifstream in(tar_path, std::ios::binary);
    if (!in) return fail_sys("open " + tar_path.string());
    std::string rootfs((std::istreambuf_iterator<char>(in)), {});
    // A split image as `lxc image import meta.tar rootfs.tar` sends it: multipart, metadata first.
    const std::string boundary = "ctrbench-" + std::to_string(::getpid()) + "-image-boundary";
    std::string body;
    for (const auto& [part, data] :
         {std::pair<std::string, const std::string*>{"metadata", &*meta}, {"rootfs", &rootfs}})
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part + "\"; filename=\"" + part +
                ".tar\"\r\nContent-Type: application/octet-stream\r\n\r\n" + *data + "\r\n";
    body += "--" + boundary + "--\r\n";
    auto reply = api_.http().call("POST", "/1.0/images", body, "multipart/form-data; boundary=" + boundary, 300s);
    if (!reply) return fail(std::move(reply.error()).wrap("import image " + *alias));
    auto j = json::parse(reply->body, nullptr, false);
    if (j.is_discarded()) return fail_msg("import image " + *alias + ": lxd's reply is not JSON");
    auto op = api_.wait(j, "import image " + *alias, 300s);
    if (!op) return fail(std::move(op.error()));
    const auto fingerprint = (*op)["metadata"].value("fingerprint", "");
    if (fingerprint.empty()) return fail_msg("import image " + *alias + ": lxd gave no fingerprint");
    auto named = api_.sync("POST", "/1.0/images/aliases", json{{"name", *alias}, {"target", fingerprint}});
    if (!named) return fail(std::move(named.error()).wrap("import image " + *alias));
    // The image's earlier builds (their tags differ only by the hash) go, but not one another checkout of
    // ctrbench still uses.
    record_build("lxd", *alias, spec);
    const std::string earlier = alias->substr(0, alias->rfind('-') + 1);
    if (auto all = api_.sync("GET", "/1.0/images/aliases"); all && all->is_array())
        for (const auto& url : *all) {
            if (!url.is_string()) continue;
            const std::string name = url.get<std::string>().substr(url.get<std::string>().rfind('/') + 1);
            if (!name.starts_with(earlier) || name == *alias || build_in_use("lxd", name)) continue;
            if (auto a = api_.sync("GET", "/1.0/images/aliases/" + name); a && a->contains("target"))
                if (api_.run("DELETE", "/1.0/images/" + (*a)["target"].get<std::string>(), nullptr))
                    forget_build("lxd", name);
        }
    return {};
}

std::optional<EngineSetting> LxdDriver::engine_setting_for(const std::string& storage) const {
    return EngineSetting{"lxd", storage == "btrfs" ? "dir+btrfs" : "dir"};  // its pools: the lxd role's
}

std::optional<EngineSetting> LxdDriver::current_engine_setting() {
    if (!fs::exists(api_.socket()) || !api_.sync("GET", "/1.0")) return std::nullopt;
    return EngineSetting{"lxd", api_.sync("GET", "/1.0/storage-pools/" + pool_for("btrfs")) ? "dir+btrfs" : "dir"};
}

Result<json> LxdDriver::create_body(const ContainerSpec& spec, const std::string& alias, const std::string& pool) {
    if (spec.network == NetworkMode::Host) return fail_msg("lxd: the host's network is not supported");
    if (spec.read_only_rootfs) return fail_msg("lxd: a read-only rootfs is not supported");
    std::string init;
    for (const auto& arg : spec.init) {
        if (arg.find_first_of(" \t\n") != std::string::npos)
            return fail_msg("lxd: an argument of the first process has white space: " + arg);
        init += (init.empty() ? "" : " ") + arg;
    }
    // The spec's first process, as lxc's config takes it; LXD's own lxc.cap.drop list gets every
    // capability outside the common set added (NET_RAW among them unless the spec grants it), so
    // that the instance keeps what every driver's container keeps.
    std::string raw = "lxc.init.cmd = " + init + "\nlxc.init.cwd = " + spec.workdir + "\n";
    if (!spec.hostname.empty() && spec.hostname != spec.name) raw += "lxc.uts.name = " + spec.hostname + "\n";
    auto keep = capability_mask(spec.add_caps);
    if (!keep) return fail(std::move(keep.error()));
    std::string drop;
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
        if (!(*keep & (1ULL << cap))) {
            auto name = describe_mask(1ULL << cap);  // "cap_sys_admin"
            drop += " " + name.substr(name.find('_') + 1);
        }
    if (!drop.empty()) raw += "lxc.cap.drop =" + drop + "\n";
    json config = {{"raw.lxc", raw}};
    if (spec.limits.cpus > 0)
        config["limits.cpu.allowance"] = std::to_string(static_cast<long>(spec.limits.cpus * 100)) + "ms/100ms";
    if (spec.limits.memory_bytes) {
        config["limits.memory"] = std::to_string(spec.limits.memory_bytes);
        config["limits.memory.swap"] = "false";
    }
    if (spec.limits.pids) config["limits.processes"] = std::to_string(spec.limits.pids);
    for (const auto& e : spec.env)
        if (auto eq = e.find('='); eq != std::string::npos) config["environment." + e.substr(0, eq)] = e.substr(eq + 1);
    json devices = {{"root", {{"type", "disk"}, {"path", "/"}, {"pool", pool}}}};
    int n = 0;
    for (const auto& m : spec.mounts)
        devices["mount" + std::to_string(n++)] = {{"type", "disk"},
                                                  {"source", m.source.string()},
                                                  {"path", m.target},
                                                  {"readonly", m.read_only ? "true" : "false"}};
    return json{{"name", spec.name},         {"type", "container"}, {"source", {{"type", "image"}, {"alias", alias}}},
                {"profiles", json::array()}, {"ephemeral", false},  {"config", config},
                {"devices", devices}};
}

// Stops (when it runs) and deletes a dead run's instance. A stop LXD refused (a stopped instance)
// still holds the instance's operation lock for a while, and LXD refuses a delete meanwhile ("busy"):
// the stop is only asked of a running instance, and a busy instance is asked again (15 s at most).
bool LxdDriver::delete_instance(const std::string& name) {
    const std::string path = "/1.0/instances/" + name;
    if (auto st = api_.sync("GET", path + "/state"); st && st->value("status", "") != "Stopped")
        (void)api_.run("PUT", path + "/state", json{{"action", "stop"}, {"force", true}});
    const auto until = std::chrono::steady_clock::now() + 15s;
    for (;;) {
        auto r = api_.run("DELETE", path, nullptr);
        if (r) return true;
        if (r.error().message().find("busy") == std::string::npos || std::chrono::steady_clock::now() >= until)
            return false;
        std::this_thread::sleep_for(200ms);
    }
}

std::vector<std::string> LxdDriver::sweep_dead() {
    std::vector<std::string> removed;
    if (!fs::exists(api_.socket())) return removed;
    // The names a dead run asked LXD for: an instance whose create LXD was still taking when the run
    // died appears only later, so these are waited for (kIntentSettle at most) as well as the operations.
    std::vector<std::string> intents;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kIntentDir, ec))
        if (owner_gone(e.path().filename().string())) intents.push_back(e.path().filename().string());
    auto dead_op = [&](const json& op) {
        if (!op.contains("resources") || !op["resources"].contains("instances")) return false;
        for (const auto& url : op["resources"]["instances"])
            if (url.is_string()) {
                auto u = url.get<std::string>();
                u = u.substr(0, u.find('?'));
                if (owner_gone(u.substr(u.rfind('/') + 1))) return true;
            }
        return false;
    };
    auto instance_names = [&] {
        std::vector<std::string> names;
        if (auto list = api_.sync("GET", "/1.0/instances"); list && list->is_array())
            for (const auto& url : *list)
                if (url.is_string())
                    names.push_back(url.get<std::string>().substr(url.get<std::string>().rfind('/') + 1));
        return names;
    };
    const auto settle_until = std::chrono::steady_clock::now() + kIntentSettle;
    const auto give_up = std::chrono::steady_clock::now() + 120s;  // an operation LXD never ends
    for (;;) {
        // A run killed during a call leaves LXD finishing it: the operations on a dead run's instances
        // (pending or running) are waited for first.
        bool waited = false;
        if (auto ops = api_.sync("GET", "/1.0/operations?recursion=1"); ops && ops->is_object())
            for (const auto& [status, list] : ops->items()) {
                if (status != "pending" && status != "running") continue;
                for (const auto& op : list)
                    if (dead_op(op)) {
                        (void)api_.wait(json{{"type", "async"}, {"operation", "/1.0/operations/" + op.value("id", "")}},
                                        "lxd operation", 60s);
                        waited = true;
                    }
            }
        if (waited && std::chrono::steady_clock::now() < give_up) continue;
        const auto names = instance_names();
        for (const auto& name : names) {
            if (!owner_gone(name)) continue;
            if (delete_instance(name)) removed.push_back("lxd instance " + name);
            remove_lxc_cgroups(name);
            fs::remove(intent_file(name), ec);
            std::erase(intents, name);
        }
        // A name asked for with neither an instance nor an operation yet: LXD may still be taking the
        // request. Looked at again until kIntentSettle has passed.
        if (intents.empty() || std::chrono::steady_clock::now() >= settle_until) break;
        std::this_thread::sleep_for(100ms);
    }
    for (const auto& name : intents) fs::remove(intent_file(name), ec);
    for (auto& r : sweep_lxc_cgroups()) removed.push_back(std::move(r));
    return removed;
}

Result<std::unique_ptr<Container>> LxdDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    // A first process that is not in the image would only fail inside LXD after start has
    // returned: say so here, in one line.
    if (spec.init.front().find('/') != std::string::npos && !fs::exists(spec.rootfs / spec.init.front().substr(1)))
        return fail_msg("lxd " + spec.name + ": the first process " + spec.init.front() + " is not in the image " +
                        spec.rootfs.string());
    auto alias = image_alias(spec);
    if (!alias) return fail(std::move(alias.error()));
    auto body = create_body(spec, *alias, pool_for(storage_));
    if (!body) return fail(std::move(body.error()));
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    std::error_code ec;
    fs::create_directories(kIntentDir, ec);
    { std::ofstream intent(intent_file(spec.name)); }  // removed by clean, once LXD has deleted the instance
    auto c = std::make_unique<LxdContainer>(api_, spec);
    auto r = api_.run("POST", "/1.0/instances", *body, kVerbTimeout);
    if (!r) return fail(std::move(r.error()));  // c's destructor removes what LXD made
    return std::unique_ptr<Container>(std::move(c));
}

}  // namespace ctrbench::lxd
