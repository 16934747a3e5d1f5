#include "drivers/docker/docker_driver.h"

#include <signal.h>
#include <unistd.h>

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

class DockerContainer final : public Container {
public:
    DockerContainer(DockerApi api, std::string id) : api_(std::move(api)), id_(std::move(id)) {}
    ~DockerContainer() override { (void)clean(); }

    Status start() override {
        auto r = api_.call("POST", "/containers/" + id_ + "/start");
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
    c.checkpoint_why =
        "docker's checkpoint (docker checkpoint create, docker start --checkpoint) is an experimental feature of "
        "dockerd, off unless it runs with --experimental; it works on this kind of host (tried by hand with runc, "
        "restoring into a new container through a copy into its checkpoints directory), but ctrbench does not "
        "drive it yet";
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
    return std::unique_ptr<Container>(new DockerContainer(api_, (*created)["Id"].get<std::string>()));
}

}  // namespace ctrbench::docker
