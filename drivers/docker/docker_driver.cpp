#include "drivers/docker/docker_driver.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/process.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/managed_engine.h"

namespace ctrbench::docker {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// dockerd 20.10 forgets the containerd task of a container whose start failed after the runtime's
// create succeeded (runsc boots its sandbox at create, then fails to load a missing first process
// at start): DELETE /containers/{id} drops docker's record, but the task stays in containerd's
// `moby` namespace with its shim, its cgroups and the runtime's state, and `docker ps -a` shows
// nothing. Only after such a failure, remove them with containerd's own client (it ships with
// containerd, which dockerd runs) and the fifo directory dockerd made for the container.
void remove_orphaned_task(const std::string& id) {
    static const std::string ctr = find_program("ctr");
    if (ctr.empty()) return;
    for (const char* sock : {"/run/docker/containerd/containerd.sock", "/run/containerd/containerd.sock"}) {
        if (!fs::exists(sock)) continue;
        auto in_moby = [&](std::vector<std::string> args) {
            std::vector<std::string> argv = {ctr, "-a", sock, "-n", "moby"};
            argv.insert(argv.end(), args.begin(), args.end());
            return run_process(argv, 30s);
        };
        if (auto info = in_moby({"containers", "info", id}); !info || !info->ok()) continue;
        // The task stays CREATED while runsc's sandbox lives on (about 2 s here), and neither a
        // delete nor a kill is accepted in that state: retry until it has stopped (or is gone).
        const auto until = std::chrono::steady_clock::now() + 20s;
        for (;;) {
            auto del = in_moby({"tasks", "delete", id});
            if (!del || del->ok() || del->err.find("not found") != std::string::npos) break;
            if (std::chrono::steady_clock::now() > until) break;
            std::this_thread::sleep_for(100ms);
        }
        (void)in_moby({"containers", "rm", id});
    }
    std::error_code ec;
    fs::remove(fs::path("/run/docker/containerd") / id, ec);  // empty once the task is gone
}

constexpr auto kCheckpointTimeout = std::chrono::milliseconds(600s);  // a dump or restore of GBs of memory
constexpr const char* kCheckpointName = "ctrbench";
constexpr const char* kNotExperimental =
    "dockerd runs without --experimental, which its checkpoint needs (\"experimental\": true in "
    "/etc/docker/daemon.json; playbooks/docker.yml sets it)";

// dockerd's data root, from /info, which also says whether the daemon runs experimental: its
// checkpoint is off otherwise. For a container of a driver that was not probed (probe() reads both).
Result<std::string> checkpointing_data_root(DockerApi& api) {
    auto info = api.get_json("/info");
    if (!info) return fail(std::move(info.error()));
    if (!info->value("ExperimentalBuild", false)) return fail_msg(kNotExperimental);
    std::string root = info->value("DockerRootDir", "");
    if (root.empty()) return fail_msg("dockerd's /info names no DockerRootDir");
    return root;
}

std::string url_encode(const std::string& s);

class DockerContainer final : public Container {
public:
    // `data_root`: dockerd's, when its probe found it experimental (else found when a checkpoint needs it).
    DockerContainer(DockerApi api, std::string id, std::string data_root)
        : api_(std::move(api)), id_(std::move(id)), data_root_(std::move(data_root)) {}
    ~DockerContainer() override { (void)clean(); }

    Status start() override { return start_with(""); }

    // Capabilities::engine_checkpoint: dockerd's experimental checkpoint, CRIU through runc. It dumps
    // the container's processes into dockerd's own directory for it (<data root>/containers/<id>/
    // checkpoints/<name>) and stops it. `file` is a directory: that dump (checkpoint/), and what the
    // processes changed in the container's filesystem, which docker's dump leaves out (podman's export
    // holds it): tars of the changed paths (rootfs-N.tar, the directory it unpacks into in rootfs-N.path)
    // and the paths it deleted from its image (deleted.json).
    Status checkpoint(const fs::path& file) override {
        auto dir = checkpoints_dir();
        if (!dir) return fail(std::move(dir.error()));
        auto r = api_.call("POST", "/containers/" + id_ + "/checkpoints",
                           json{{"CheckpointID", kCheckpointName}, {"Exit", true}}.dump(), "application/json",
                           kCheckpointTimeout, {201});
        if (!r) return fail(std::move(r.error()).wrap("checkpoint container " + id_.substr(0, 12)));
        stopped_ = true;
        std::error_code ec;
        fs::create_directories(file, ec);
        fs::copy(*dir / kCheckpointName, file / "checkpoint", fs::copy_options::recursive, ec);
        if (ec)
            return fail_msg("copy docker's checkpoint " + (*dir / kCheckpointName).string() + " to " + file.string() +
                            ": " + ec.message());
        auto changes = api_.get_json("/containers/" + id_ + "/changes");
        if (!changes) return fail(std::move(changes.error()));
        std::vector<std::pair<std::string, bool>> paths;  // path, added (else modified)
        json deleted = json::array();
        for (const auto& c : *changes) {
            if (const int kind = c.value("Kind", 2); kind != 2)
                paths.emplace_back(c.value("Path", ""), kind == 1);
            else
                deleted.push_back(c.value("Path", ""));
        }
        if (!deleted.empty())
            if (std::ofstream out(file / "deleted.json"); !(out << deleted.dump()))
                return fail_sys("write " + (file / "deleted.json").string());
        auto under = [](const std::string& p, const std::string& q) { return p.starts_with(q == "/" ? q : q + "/"); };
        // What to copy: the topmost added paths (their tars hold what is under them; their parents
        // exist in a new container), and for the modified files (a modified directory holding changes
        // is changed only by them) their directories, whole: one copy for a directory of many (a
        // Python service rewrites hundreds of .pyc files; a copy each took 13 s).
        std::vector<std::string> copies;
        for (const auto& [p, added] : paths) {
            const bool in_added =
                std::any_of(paths.begin(), paths.end(), [&](const auto& q) { return q.second && under(p, q.first); });
            const bool holds_changes =
                std::any_of(paths.begin(), paths.end(), [&](const auto& q) { return under(q.first, p); });
            if (p.empty() || p == "/" || in_added || (!added && holds_changes)) continue;
            const std::string parent = fs::path(p).parent_path().string();
            const std::string copy = added || parent == "/" ? p : parent;
            if (std::find(copies.begin(), copies.end(), copy) == copies.end()) copies.push_back(copy);
        }
        int n = 0;
        for (const auto& p : copies) {
            auto tar = api_.call("GET", "/containers/" + id_ + "/archive?path=" + url_encode(p), "", "application/json",
                                 kCheckpointTimeout);
            if (!tar) return fail(std::move(tar.error()).wrap("copy " + p + " out of the checkpointed container"));
            const auto base = file / ("rootfs-" + std::to_string(n++));
            std::ofstream(base.string() + ".path") << fs::path(p).parent_path().string();
            if (std::ofstream out(base.string() + ".tar", std::ios::binary); !(out << tar->body))
                return fail_sys("write " + base.string() + ".tar");
        }
        return {};
    }

    // A new container from a checkpoint() `file`: its filesystem's changes put back, then dockerd 20.10,
    // which restores only from its own directory ("custom checkpointdir is not supported"), is given
    // the dump there, and the container starts from it. All of it is the restore's time.
    Status start_from(const fs::path& file) {
        auto dir = checkpoints_dir();
        if (!dir) return fail(std::move(dir.error()));
        if (auto s = delete_paths(file / "deleted.json"); !s) return s;
        for (int n = 0;; ++n) {
            const auto base = file / ("rootfs-" + std::to_string(n));
            std::ifstream in(base.string() + ".tar", std::ios::binary);
            if (!in) break;
            std::string tar((std::istreambuf_iterator<char>(in)), {}), parent;
            std::ifstream path_in(base.string() + ".path");
            std::getline(path_in, parent);
            auto r = api_.call("PUT", "/containers/" + id_ + "/archive?path=" + url_encode(parent), tar,
                               "application/x-tar", kCheckpointTimeout);
            if (!r) return fail(std::move(r.error()).wrap("put the checkpoint's files back into " + parent));
        }
        std::error_code ec;
        fs::create_directories(*dir, ec);
        fs::copy(file / "checkpoint", *dir / kCheckpointName, fs::copy_options::recursive, ec);
        if (ec)
            return fail_msg("copy the checkpoint " + (file / "checkpoint").string() + " into " + dir->string() + ": " +
                            ec.message());
        return start_with(std::string("?checkpoint=") + kCheckpointName);
    }

    // What the checkpointed container deleted from its image (a JSON array of paths), deleted from
    // this one before it starts. Docker's API has no delete; on overlay2 a child of ctrbench's mounts
    // the container's layers in a mount namespace of its own (the mount dies with it) and removes the
    // paths there: overlayfs writes the whiteouts into the container's upper layer, which dockerd
    // mounts at start. Other storage drivers: one line, when there is something to delete.
    Status delete_paths(const fs::path& list) {
        std::ifstream in(list);
        if (!in) return {};
        const json paths = json::parse(in, nullptr, false);
        if (!paths.is_array() || paths.empty() ||
            !std::all_of(paths.begin(), paths.end(), [](const json& p) { return p.is_string(); }))
            return fail_msg("the checkpoint's " + list.string() + " is not a list of paths");
        auto j = api_.get_json("/containers/" + id_ + "/json");
        if (!j) return fail(std::move(j.error()));
        const json graph = (*j)["GraphDriver"].is_object() ? (*j)["GraphDriver"] : json::object();
        const json data = graph.contains("Data") && graph["Data"].is_object() ? graph["Data"] : json::object();
        const std::string storage = graph.value("Name", "");
        const std::string lower = data.value("LowerDir", ""), upper = data.value("UpperDir", ""),
                          work = data.value("WorkDir", "");
        if (storage != "overlay2" || upper.empty() || work.empty())
            return fail_msg("the checkpointed container deleted " + paths[0].get<std::string>() +
                            (paths.size() > 1 ? " and " + std::to_string(paths.size() - 1) + " more paths" : "") +
                            " from its image; ctrbench deletes them in the restored container only on docker's "
                            "overlay2 storage, not " +
                            storage);
        const fs::path mnt = list.parent_path() / "rootfs-mnt";
        std::error_code ec;
        fs::create_directory(mnt, ec);
        std::vector<std::string> argv = {
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            R"(mount -t overlay overlay -o "$1" "$2" && m=$2 && shift 2 && for p; do rm -rf -- "$m$p"; done)",
            "sh",
            (lower.empty() ? "" : "lowerdir=" + lower + ",") + "upperdir=" + upper + ",workdir=" + work,
            mnt.string()};
        for (const auto& p : paths) argv.push_back(p.get<std::string>());
        auto r = run_checked(argv, 60s);
        fs::remove(mnt, ec);
        if (!r) return fail(std::move(r.error()).wrap("delete what the checkpointed container deleted"));
        return {};
    }

    // Where dockerd keeps this container's checkpoints: <data root>/containers/<id>/checkpoints.
    Result<fs::path> checkpoints_dir() {
        if (data_root_.empty()) {
            auto root = checkpointing_data_root(api_);
            if (!root) return fail(std::move(root.error()));
            data_root_ = *root;
        }
        return fs::path(data_root_) / "containers" / id_ / "checkpoints";
    }

    Status start_with(const std::string& query) {
        auto r = api_.call("POST", "/containers/" + id_ + "/start" + query, "", "application/json",
                           query.empty() ? std::chrono::milliseconds(60s) : kCheckpointTimeout);
        if (!r) {
            start_failed_ = true;
            return fail(std::move(r.error()));
        }
        // The init's pid locates the container's memory cgroup, where OOM kills are counted; the
        // network settings say where published ports are and the bridge's address.
        if (auto j = api_.get_json("/containers/" + id_ + "/json")) {
            if ((*j)["State"]["Pid"].is_number())
                if (auto cg = memory_cgroup_of((*j)["State"]["Pid"].get<int>())) memory_cgroup_ = *cg;
            network_ = (*j)["NetworkSettings"];
        }
        return {};
    }

    Result<std::string> endpoint(int port) override { return published_endpoint(network_, port); }
    Result<std::string> host_end() override { return bridge_gateway(network_); }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        auto created = api_.post_json("/containers/" + id_ + "/exec",
                                      {{"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false}, {"Cmd", argv}});
        if (!created) return fail(std::move(created.error()));
        std::string exec_id = (*created)["Id"];
        std::uint64_t oom0 = oom_kill_count(memory_cgroup_);
        ExecResult r;
        // The reply is the command's output, multiplexed, until it exits and Docker closes the stream.
        auto started = api_.call("POST", "/exec/" + exec_id + "/start", json{{"Detach", false}, {"Tty", false}}.dump(),
                                 "application/json", timeout);
        if (!started) {
            if (started.error().err() != ETIMEDOUT) return fail(std::move(started.error()));
            r.timed_out = true;
            return r;
        }
        demultiplex(started->body, r.out, r.err);
        auto info = api_.get_json("/exec/" + exec_id + "/json");
        if (!info) return fail(std::move(info.error()));
        if ((*info)["Running"].get<bool>())
            r.timed_out = true;
        else
            r.exit_code = (*info)["ExitCode"].get<int>();
        decode_signal_exit(r);
        r.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
        return r;
    }

    Status stop() override {
        if (stopped_) return {};
        auto k = api_.call("POST", "/containers/" + id_ + "/kill?signal=KILL", "", "application/json", 60s, {204, 409});
        if (!k) return fail(std::move(k.error()));
        auto w = api_.call("POST", "/containers/" + id_ + "/wait?condition=not-running");
        if (!w) return fail(std::move(w.error()));
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (removed_) return {};
        auto r =
            api_.call("DELETE", "/containers/" + id_ + "?force=true&v=true", "", "application/json", 60s, {204, 404});
        if (!r) return fail(std::move(r.error()));
        removed_ = true;
        if (start_failed_) remove_orphaned_task(id_);
        return {};
    }

private:
    DockerApi api_;
    std::string id_;
    std::string data_root_;
    json network_;  // NetworkSettings, read at start
    fs::path memory_cgroup_;
    bool stopped_ = false, removed_ = false, start_failed_ = false;
};

std::string url_encode(const std::string& s) {
    std::ostringstream out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out << c;
        else
            out << '%' << std::uppercase << std::hex << (c >> 4) << (c & 15) << std::nouppercase << std::dec;
    }
    return out.str();
}

}  // namespace

DockerDriver::DockerDriver(std::string runtime, std::string socket)
    : runtime_(std::move(runtime)), api_(std::move(socket)) {}

std::string DockerDriver::description() const {
    return "Docker Engine API on " + api_.socket() + ", runtime " + runtime_;
}

Capabilities DockerDriver::capabilities() const {
    Capabilities c;
    c.daemon = true;
    c.port_publishing = true;
    c.read_only_rootfs = true;
    // Docker's bridge, with ports published on 127.0.0.1; runsc is registered with --network=none.
    c.own_network = runtime_ != "runsc";
    c.host_sees_oom = runtime_ != "runsc";  // gVisor's own kernel accounts the memory
    if (!c.own_network)
        c.no_network_why =
            "runsc is registered in Docker with --network=none (gVisor's sandbox network fails on this kind of host)";
    c.cgroup_parents = {"docker"};
    // dockerd's checkpoint (experimental: playbooks/docker.yml runs dockerd with it) goes through runc
    // and CRIU; crun 1.8.1 has none, and gVisor's own checkpoint is not CRIU's.
    c.engine_checkpoint = runtime_ == "runc" && experimental_.value_or(true);
    if (runtime_ != "runc")
        c.checkpoint_why =
            "docker checkpoints containers only with runc (crun 1.8.1 has no CRIU support; gVisor "
            "has a checkpoint of its own), not " +
            runtime_;
    else if (!c.engine_checkpoint)
        c.checkpoint_why = kNotExperimental;
    return c;
}

std::optional<EngineSetting> DockerDriver::engine_setting_for(const std::string& storage) const {
    return EngineSetting{"docker", storage};  // the daemon's storage driver, daemon.json
}

std::optional<EngineSetting> DockerDriver::current_engine_setting() {
    auto p = probe();
    if (!p.available) return std::nullopt;
    return EngineSetting{"docker", p.storage};
}

Probe DockerDriver::probe() {
    Probe p;
    p.runtime = runtime_;
    if (!fs::exists(api_.socket())) {
        p.reason = "dockerd is not running: no socket at " + api_.socket() + " (ansible-playbook playbooks/docker.yml)";
        return p;
    }
    if (::access(api_.socket().c_str(), R_OK | W_OK) != 0) {
        p.reason = "permission denied on " + api_.socket() + " (run as root or join the docker group)";
        return p;
    }
    auto version = api_.get_json("/version");
    if (!version) {
        p.reason = version.error().message();
        return p;
    }
    p.versions["docker"] = version->value("Version", "");
    p.versions["docker_api"] = version->value("ApiVersion", "");
    auto info = api_.get_json("/info");
    if (!info) {
        p.reason = info.error().message();
        return p;
    }
    experimental_ = info->value("ExperimentalBuild", false);
    data_root_ = info->value("DockerRootDir", "");
    p.storage = info->value("Driver", "");
    p.versions["storage"] = p.storage;
    p.versions["cgroup_driver"] = info->value("CgroupDriver", "");
    if (!(*info)["Runtimes"].contains(runtime_)) {
        p.reason =
            "runtime " + runtime_ + " is not registered in Docker (/etc/docker/daemon.json; playbooks/docker.yml)";
        return p;
    }
    p.available = true;
    return p;
}

json DockerDriver::create_body(const ContainerSpec& spec, const std::string& image, const std::string& runtime) {
    json host = {
        {"Runtime", runtime},
        {"NetworkMode", spec.network == NetworkMode::Host  ? "host"
                        : spec.network == NetworkMode::Own ? "bridge"
                                                           : "none"},
        {"ReadonlyRootfs", spec.read_only_rootfs},
        {"Init", false},
    };
    if (spec.limits.cpus > 0) host["NanoCpus"] = std::llround(spec.limits.cpus * 1e9);
    if (spec.limits.memory_bytes) {
        host["Memory"] = spec.limits.memory_bytes;
        host["MemorySwap"] = spec.limits.memory_bytes;  // no swap beyond the limit, as the other drivers
    }
    if (spec.limits.pids) host["PidsLimit"] = spec.limits.pids;
    if (spec.read_only_rootfs)
        host["Tmpfs"] = {{"/tmp", "rw,nosuid,nodev,size=" + std::to_string(spec.limits.writable_bytes)}};
    json binds = json::array();
    for (const auto& m : spec.mounts)
        binds.push_back(m.source.string() + ":" + m.target + (m.read_only ? ":ro" : ":rw"));
    if (!binds.empty()) host["Binds"] = binds;
    if (!spec.add_caps.empty()) host["CapAdd"] = spec.add_caps;
    // The common capability set is Docker's default without NET_RAW: drop it unless the spec adds it.
    if (!adds_capability(spec, "NET_RAW")) host["CapDrop"] = json::array({"NET_RAW"});
    json exposed = json::object();
    if (spec.network == NetworkMode::Own && !spec.publish.empty()) {
        // Published on 127.0.0.1 only, on a port Docker picks; endpoint() reads which.
        json bindings = json::object();
        for (int port : spec.publish) {
            auto key = std::to_string(port) + "/tcp";
            exposed[key] = json::object();
            bindings[key] = json::array({{{"HostIp", "127.0.0.1"}, {"HostPort", ""}}});
        }
        host["PortBindings"] = bindings;
    }
    json body = {
        {"Image", image},
        {"Cmd", spec.init},
        {"Env", spec.env},
        {"WorkingDir", spec.workdir},
        {"Hostname", spec.hostname.empty() ? spec.name : spec.hostname},
        {"Tty", false},
        {"OpenStdin", false},
        {"Labels", {{"ctrbench", "1"}}},
        {"HostConfig", host},
    };
    if (!exposed.empty()) body["ExposedPorts"] = exposed;
    return body;
}

Status DockerDriver::prepare(const ContainerSpec& spec) {
    auto ref = image_tag(spec);
    if (!ref) return fail(std::move(ref.error()));
    auto name = image_name(spec);
    if (!name) return fail(std::move(name.error()));
    record_build("docker", *name, spec);  // this checkout uses it: another's import keeps it
    if (api_.call("GET", "/images/" + *ref + "/json")) return {};
    auto tar_path = spec.rootfs.parent_path() / (spec.image + ".tar");
    std::ifstream in(tar_path, std::ios::binary);
    if (!in) return fail_sys("open " + tar_path.string());
    std::string tar((std::istreambuf_iterator<char>(in)), {});
    auto colon = ref->find(':');
    auto r = api_.call(
        "POST", "/images/create?fromSrc=-&repo=" + url_encode(ref->substr(0, colon)) + "&tag=" + ref->substr(colon + 1),
        tar, "application/x-tar", 300s);
    if (!r) return fail(std::move(r.error()).wrap("import image " + *ref));
    // The image's earlier builds go (a 342 MB service image per rebuild otherwise), but not one
    // another checkout of ctrbench still uses, nor one a container still runs from (no force).
    auto list =
        api_.get_json("/images/json?filters=" + url_encode(json{{"reference", {"ctrbench/" + spec.image}}}.dump()));
    std::vector<std::string> tags;
    if (list && list->is_array())
        for (const auto& image : *list)
            if (image["RepoTags"].is_array())
                for (const auto& t : image["RepoTags"])
                    if (t.is_string()) tags.push_back(t.get<std::string>());
    for (const auto& old : unused_builds("docker", spec, tags))
        if (api_.call("DELETE", "/images/" + old.tag, "", "application/json", 120s)) forget_build("docker", old.record);
    return {};
}

std::vector<std::string> DockerDriver::sweep_dead() {
    // Containers of ctrbench processes that died without cleaning (bucketbench's sweep by prefix).
    std::vector<std::string> removed;
    auto list = api_.get_json("/containers/json?all=true&filters=" + url_encode(R"({"label":["ctrbench=1"]})"));
    if (!list) return removed;
    for (const auto& c : *list)
        for (const auto& n : c["Names"]) {
            std::string name = n.get<std::string>();
            name = name.substr(name.starts_with("/") ? 1 : 0);
            if (!owner_gone(name)) continue;
            auto r = api_.call("DELETE", "/containers/" + c["Id"].get<std::string>() + "?force=true&v=true", "",
                               "application/json", 60s, {204, 404});
            if (r) removed.push_back("docker container " + name);
        }
    return removed;
}

Result<std::unique_ptr<Container>> DockerDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    auto ref = image_tag(spec);
    if (!ref) return fail(std::move(ref.error()));
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    auto created =
        api_.post_json("/containers/create?name=" + url_encode(spec.name), create_body(spec, *ref, runtime_));
    if (!created) return fail(std::move(created.error()));
    return std::unique_ptr<Container>(new DockerContainer(api_, (*created)["Id"].get<std::string>(),
                                                          experimental_.value_or(false) ? data_root_ : ""));
}

Result<std::unique_ptr<Container>> DockerDriver::restore(const ContainerSpec& spec, const fs::path& file) {
    if (!capabilities().engine_checkpoint) return fail_msg(capabilities().checkpoint_why);
    auto c = create(spec);
    if (!c) return fail(std::move(c.error()));
    if (auto s = static_cast<DockerContainer&>(**c).start_from(file); !s)
        return fail(std::move(s.error()).wrap("restore " + spec.name));  // c's destructor removes it
    return std::move(*c);
}

}  // namespace ctrbench::docker
