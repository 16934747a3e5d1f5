#include "drivers/containerd/containerd_driver.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <optional>

#include "core/unique_fd.h"
#include "drivers/common/cgroupfs.h"
#include "drivers/common/managed_engine.h"
#include "drivers/common/oci_config.h"
#include "drivers/common/veth.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace ctrbench::containerd {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace cs = ::containerd::services;

namespace {

constexpr auto kCallTimeout = 120s;
constexpr const char* kSpecType = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
constexpr const char* kProcessType = "types.containerd.io/opencontainers/runtime-spec/1/Process";
constexpr const char* kRuncOptionsType = "containerd.runc.v1.Options";
constexpr const char* kGcRoot = "containerd.io/gc.root";  // a label containerd's garbage collector keeps

std::unexpected<Error> grpc_fail(const grpc::Status& s, const std::string& what) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE)
        return fail_msg("containerd " + what + ": containerd is not answering (" + s.error_message() + ")");
    return fail_msg("containerd " + what + ": " + s.error_message());
}

bool not_found(const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::NOT_FOUND;
}

// An image's tar extracted under `dir` (ownership, modes, times and extended attributes kept).
Status extract_tar(const fs::path& tar, const fs::path& dir) {
    archive* in = archive_read_new();
    archive_read_support_format_tar(in);
    archive* out = archive_write_disk_new();
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                            ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    auto done = [&](Status s) {
        archive_read_free(in);
        archive_write_free(out);
        return s;
    };
    if (archive_read_open_filename(in, tar.c_str(), std::size_t{1} << 16) != ARCHIVE_OK)
        return done(fail_msg("open " + tar.string() + ": " + archive_error_string(in)));
    archive_entry* e = nullptr;
    int r = 0;
    // ARCHIVE_WARN: a name not in the C locale's charset (the CA certificates' "Főtanúsítvány"); its
    // bytes are kept as they are, which is what the image holds.
    while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        archive_entry_set_pathname(e, (dir / archive_entry_pathname(e)).c_str());
        if (const char* link = archive_entry_hardlink(e)) archive_entry_set_hardlink(e, (dir / link).c_str());
        if (archive_write_header(out, e) != ARCHIVE_OK)
            return done(fail_msg("extract " + tar.string() + ": " + archive_error_string(out)));
        const void* buf = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        int d = 0;
        while ((d = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
            if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK)
                return done(fail_msg("extract " + tar.string() + ": " + archive_error_string(out)));
        if (d != ARCHIVE_EOF) return done(fail_msg("read " + tar.string() + ": " + archive_error_string(in)));
        if (archive_write_finish_entry(out) != ARCHIVE_OK)
            return done(fail_msg("extract " + tar.string() + ": " + archive_error_string(out)));
    }
    if (r != ARCHIVE_EOF) return done(fail_msg("read " + tar.string() + ": " + archive_error_string(in)));
    return done({});
}

}  // namespace

// One channel to containerd and a stub per service; every call carries the namespace and a deadline.
class Api {
public:
    explicit Api(const std::string& socket)
        : channel_(grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials())),
          version(cs::version::v1::Version::NewStub(channel_)),
          containers(cs::containers::v1::Containers::NewStub(channel_)),
          snapshots(cs::snapshots::v1::Snapshots::NewStub(channel_)),
          tasks(cs::tasks::v1::Tasks::NewStub(channel_)) {}

    static std::unique_ptr<grpc::ClientContext> context(std::chrono::milliseconds deadline = kCallTimeout) {
        auto c = std::make_unique<grpc::ClientContext>();
        c->AddMetadata("containerd-namespace", kNamespace);
        c->set_deadline(std::chrono::system_clock::now() + deadline);
        return c;
    }

    // Calls `method` of `stub` with a fresh context: the status, the reply in `reply`.
    template <class Stub, class Req, class Rep>
    static grpc::Status call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Rep*),
                             const Req& req, Rep& reply, std::chrono::milliseconds deadline = kCallTimeout) {
        auto ctx = context(deadline);
        return (stub.*method)(ctx.get(), req, &reply);
    }

private:
    std::shared_ptr<grpc::Channel> channel_;

public:
    std::unique_ptr<cs::version::v1::Version::Stub> version;
    std::unique_ptr<cs::containers::v1::Containers::Stub> containers;
    std::unique_ptr<cs::snapshots::v1::Snapshots::Stub> snapshots;
    std::unique_ptr<cs::tasks::v1::Tasks::Stub> tasks;
};

namespace {

using ContainersStub = cs::containers::v1::Containers::Stub;
using SnapshotsStub = cs::snapshots::v1::Snapshots::Stub;
using TasksStub = cs::tasks::v1::Tasks::Stub;

// The names of every snapshot of ours (the namespace's, in our snapshotter).
std::vector<std::string> list_snapshots(Api& api) {
    cs::snapshots::v1::ListSnapshotsRequest req;
    req.set_snapshotter(kSnapshotter);
    auto ctx = Api::context(10s);
    auto reader = api.snapshots->List(ctx.get(), req);
    std::vector<std::string> keys;
    cs::snapshots::v1::ListSnapshotsResponse page;
    while (reader && reader->Read(&page))
        for (const auto& info : page.info()) keys.push_back(info.name());
    if (reader) (void)reader->Finish();
    return keys;
}

grpc::Status remove_snapshot(Api& api, const std::string& key) {
    cs::snapshots::v1::RemoveSnapshotRequest req;
    req.set_snapshotter(kSnapshotter);
    req.set_key(key);
    google::protobuf::Empty e;
    return Api::call<SnapshotsStub>(*api.snapshots, &SnapshotsStub::Remove, req, e);
}

// Kills every process of a container's task and deletes the task; a container without one is fine.
grpc::Status kill_and_delete_task(Api& api, const std::string& id) {
    cs::tasks::v1::KillRequest kill;
    kill.set_container_id(id);
    kill.set_signal(SIGKILL);
    kill.set_all(true);
    google::protobuf::Empty e;
    auto s = Api::call<TasksStub>(*api.tasks, &TasksStub::Kill, kill, e);
    if (not_found(s)) return grpc::Status::OK;
    if (!s.ok() && s.error_message().find("not running") == std::string::npos &&
        s.error_message().find("process already finished") == std::string::npos)
        return s;
    cs::tasks::v1::WaitRequest wait;
    wait.set_container_id(id);
    cs::tasks::v1::WaitResponse waited;
    s = Api::call<TasksStub>(*api.tasks, &TasksStub::Wait, wait, waited, 60s);
    if (!s.ok() && !not_found(s)) return s;
    cs::tasks::v1::DeleteTaskRequest del;
    del.set_container_id(id);
    cs::tasks::v1::DeleteResponse deleted;
    s = Api::call<TasksStub>(*api.tasks, &TasksStub::Delete, del, deleted);
    return not_found(s) ? grpc::Status::OK : s;
}

class ContainerdContainer final : public Container {
public:
    ContainerdContainer(std::shared_ptr<Api> api, ContainerSpec spec, nlohmann::json process)
        : api_(std::move(api)),
          spec_(std::move(spec)),
          process_(std::move(process)),
          fifo_dir_(fs::path(kFifoDir) / spec_.name) {}
    ContainerdContainer(const ContainerdContainer&) = delete;
    ContainerdContainer& operator=(const ContainerdContainer&) = delete;
    ContainerdContainer(ContainerdContainer&&) = delete;
    ContainerdContainer& operator=(ContainerdContainer&&) = delete;
    ~ContainerdContainer() override {
        (void)stop();
        (void)clean();
    }

    // create's three calls; what each made is undone by clean (through the destructor on failure).
    Status create(const std::string& image_snapshot, const std::string& shim, const std::string& binary,
                  const nlohmann::json& config) {
        cs::snapshots::v1::PrepareSnapshotRequest prep;
        prep.set_snapshotter(kSnapshotter);
        prep.set_key(spec_.name);
        prep.set_parent(image_snapshot);
        (*prep.mutable_labels())[kGcRoot] = "ctrbench";
        cs::snapshots::v1::PrepareSnapshotResponse mounts;
        auto s = Api::call<SnapshotsStub>(*api_->snapshots, &SnapshotsStub::Prepare, prep, mounts);
        if (!s.ok()) return grpc_fail(s, "prepare snapshot " + spec_.name);
        snapshot_made_ = true;

        google::protobuf::Any options;
        if (!binary.empty()) {
            ::containerd::runc::v1::Options o;
            o.set_binary_name(binary);
            options.set_type_url(kRuncOptionsType);
            options.set_value(o.SerializeAsString());
        }
        cs::containers::v1::CreateContainerRequest creq;
        auto* c = creq.mutable_container();
        c->set_id(spec_.name);
        c->mutable_runtime()->set_name(shim);
        if (!binary.empty()) *c->mutable_runtime()->mutable_options() = options;
        c->mutable_spec()->set_type_url(kSpecType);
        c->mutable_spec()->set_value(config.dump());
        c->set_snapshotter(kSnapshotter);
        c->set_snapshot_key(spec_.name);
        cs::containers::v1::CreateContainerResponse created;
        s = Api::call<ContainersStub>(*api_->containers, &ContainersStub::Create, creq, created);
        if (!s.ok()) return grpc_fail(s, "create container " + spec_.name);
        container_made_ = true;

        cs::tasks::v1::CreateTaskRequest treq;
        treq.set_container_id(spec_.name);
        for (const auto& m : mounts.mounts()) *treq.add_rootfs() = m;
        if (!binary.empty()) *treq.mutable_options() = options;
        cs::tasks::v1::CreateTaskResponse task;
        task_made_ = true;  // a failed create may leave a shim: clean asks containerd to delete the task
        s = Api::call<TasksStub>(*api_->tasks, &TasksStub::Create, treq, task, spec_.timeout);
        if (!s.ok()) return grpc_fail(s, "create task " + spec_.name);
        init_pid_ = static_cast<int>(task.pid());
        if (spec_.network == NetworkMode::Own) {
            auto l = attach_veth(init_pid_);
            if (!l) return fail(std::move(l.error()));
            link_ = *l;
        }
        if (auto where = memory_cgroup_of(init_pid_)) memory_cgroup_ = *where;
        return {};
    }

    Status start() override {
        cs::tasks::v1::StartRequest req;
        req.set_container_id(spec_.name);
        cs::tasks::v1::StartResponse rep;
        auto s = Api::call<TasksStub>(*api_->tasks, &TasksStub::Start, req, rep, spec_.timeout);
        if (!s.ok()) return grpc_fail(s, "start " + spec_.name);
        return {};
    }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        const std::string id = "exec" + std::to_string(++execs_);
        std::error_code ec;
        fs::create_directories(fifo_dir_, ec);
        const fs::path out_path = fifo_dir_ / (id + ".out"), err_path = fifo_dir_ / (id + ".err");
        for (const auto& p : {out_path, err_path})
            if (::mkfifo(p.c_str(), 0600) != 0) return fail_sys("mkfifo " + p.string());
        // Opened before the shim opens them for writing; a reader sees EOF once the shim has closed them.
        UniqueFd out(::open(out_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        UniqueFd err(::open(err_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        auto unlink_fifos = [&] {
            fs::remove(out_path, ec);
            fs::remove(err_path, ec);
        };
        if (!out || !err) {
            unlink_fifos();
            return fail_sys("open " + out_path.string());
        }
        json process = process_;
        process["args"] = argv;
        cs::tasks::v1::ExecProcessRequest req;
        req.set_container_id(spec_.name);
        req.set_exec_id(id);
        req.set_stdout(out_path.string());
        req.set_stderr(err_path.string());
        req.mutable_spec()->set_type_url(kProcessType);
        req.mutable_spec()->set_value(process.dump());
        google::protobuf::Empty e;
        auto s = Api::call<TasksStub>(*api_->tasks, &TasksStub::Exec, req, e);
        if (!s.ok()) {
            unlink_fifos();
            return grpc_fail(s, "exec in " + spec_.name);
        }
        auto delete_process = [&] {
            cs::tasks::v1::DeleteProcessRequest del;
            del.set_container_id(spec_.name);
            del.set_exec_id(id);
            cs::tasks::v1::DeleteResponse gone;
            (void)Api::call<TasksStub>(*api_->tasks, &TasksStub::DeleteProcess, del, gone);
            unlink_fifos();
        };
        const std::uint64_t oom0 = oom_kill_count(memory_cgroup_);
        cs::tasks::v1::StartRequest start;
        start.set_container_id(spec_.name);
        start.set_exec_id(id);
        cs::tasks::v1::StartResponse started;
        s = Api::call<TasksStub>(*api_->tasks, &TasksStub::Start, start, started);
        if (!s.ok()) {
            delete_process();
            return grpc_fail(s, "start exec in " + spec_.name);
        }
        ExecResult r;
        read_until_closed(out.get(), err.get(), r, id, timeout);
        cs::tasks::v1::WaitRequest wait;
        wait.set_container_id(spec_.name);
        wait.set_exec_id(id);
        cs::tasks::v1::WaitResponse waited;
        s = Api::call<TasksStub>(*api_->tasks, &TasksStub::Wait, wait, waited, r.timed_out ? 10s : timeout);
        if (!s.ok()) {
            delete_process();
            return grpc_fail(s, "wait for exec in " + spec_.name);
        }
        delete_process();
        if (!r.timed_out) {
            r.exit_code = static_cast<int>(waited.exit_status());
            decode_signal_exit(r);
        }
        r.oom_killed = oom_kill_count(memory_cgroup_) > oom0;
        return r;
    }

    Status stop() override {
        if (!task_made_ || stopped_) return {};
        auto s = kill_and_delete_task(*api_, spec_.name);
        if (!s.ok()) return grpc_fail(s, "stop " + spec_.name);
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (task_made_ && !stopped_)
            if (auto s = stop(); !s) return s;
        if (container_made_) {
            cs::containers::v1::DeleteContainerRequest req;
            req.set_id(spec_.name);
            google::protobuf::Empty e;
            auto s = Api::call<ContainersStub>(*api_->containers, &ContainersStub::Delete, req, e);
            if (!s.ok() && !not_found(s)) return grpc_fail(s, "delete container " + spec_.name);
            container_made_ = false;
        }
        if (snapshot_made_) {
            auto s = remove_snapshot(*api_, spec_.name);
            if (!s.ok() && !not_found(s)) return grpc_fail(s, "remove snapshot " + spec_.name);
            snapshot_made_ = false;
        }
        std::error_code ec;
        fs::remove_all(fifo_dir_, ec);
        return {};
    }

    Result<std::string> endpoint(int port) override { return link_endpoint(link_, port); }
    Result<std::string> host_end() override { return link_host_end(link_); }

private:
    // The exec's output from its two FIFOs until the shim closes both, at most `timeout`: then the
    // exec is killed (timed_out) and its output read for 5 s more at most.
    void read_until_closed(int out, int err, ExecResult& r, const std::string& id, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
        std::string* into[2] = {&r.out, &r.err};
        char buf[65536];
        while (fds[0].fd >= 0 || fds[1].fd >= 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) {
                if (r.timed_out) return;  // killed, and still not closed
                r.timed_out = true;
                cs::tasks::v1::KillRequest kill;
                kill.set_container_id(spec_.name);
                kill.set_exec_id(id);
                kill.set_signal(SIGKILL);
                google::protobuf::Empty e;
                (void)Api::call<TasksStub>(*api_->tasks, &TasksStub::Kill, kill, e);
                deadline = std::chrono::steady_clock::now() + 5s;
                continue;
            }
            // Linux reports no hang-up on a FIFO whose writer never came: poll waits for the shim.
            if (::poll(fds, 2, static_cast<int>(std::min<std::chrono::milliseconds>(left, 1000ms).count())) < 0 &&
                errno != EINTR)
                return;
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n > 0) {
                    if (into[i]->size() < ExecResult::kMaxOutput)
                        into[i]->append(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                                   ExecResult::kMaxOutput - into[i]->size()));
                } else if (n == 0 || errno != EAGAIN) {
                    fds[i].fd = -1;  // closed by the shim
                }
            }
        }
    }

    std::shared_ptr<Api> api_;
    ContainerSpec spec_;
    json process_;  // the spec's process, whose args each exec replaces
    fs::path fifo_dir_;
    fs::path memory_cgroup_;
    std::optional<VethLink> link_;
    int init_pid_ = -1;
    int execs_ = 0;
    bool snapshot_made_ = false, container_made_ = false, task_made_ = false, stopped_ = false;
};

}  // namespace

ContainerdDriver::ContainerdDriver(std::string runtime, std::string socket)
    : runtime_(std::move(runtime)), socket_(std::move(socket)) {}

ContainerdDriver::~ContainerdDriver() = default;

// The channel, made on first use (a driver that is only listed opens none), once: the throughput
// workload creates containers from several threads.
std::shared_ptr<Api> ContainerdDriver::api() {
    std::call_once(api_made_, [&] { api_ = std::make_shared<Api>(socket_); });
    return api_;
}

std::string ContainerdDriver::description() const {
    return "containerd's gRPC API on " + socket_ + " (" + runtime_ + ")";
}

std::string ContainerdDriver::shim_for(const std::string& runtime) {
    if (runtime == "runc" || runtime == "crun") return "io.containerd.runc.v2";
    if (runtime == "kata") return "io.containerd.kata.v2";
    return "";
}

Capabilities ContainerdDriver::capabilities() const {
    Capabilities c;
    c.daemon = true;
    c.vm = runtime_ == "kata";
    c.own_network = runtime_ != "kata";
    if (!c.own_network) c.no_network_why = "kata: the VM's network needs CNI, which ctrbench does not configure";
    c.host_sees_oom = runtime_ != "kata";
    return c;
}

Probe ContainerdDriver::probe() {
    Probe p;
    p.runtime = runtime_;
    p.storage = kSnapshotter;
    const std::string shim = shim_for(runtime_);
    if (shim.empty()) {
        p.reason = "containerd: unknown runtime " + runtime_ + " (runc, crun or kata)";
        return p;
    }
    std::error_code ec;
    const bool there = fs::exists(socket_, ec);
    if (ec == std::errc::permission_denied || (there && ::access(socket_.c_str(), R_OK | W_OK) != 0)) {
        p.reason = "containerd: permission denied on " + socket_ + " (run as root)";
        return p;
    }
    if (!there) {
        p.reason = "containerd is not running (no " + socket_ + "; ./ctrbench.sh setup starts it)";
        return p;
    }
    const std::string shim_binary = runtime_ == "kata" ? "containerd-shim-kata-v2" : "containerd-shim-runc-v2";
    if (find_program(shim_binary).empty()) {
        p.reason = runtime_ == "kata" ? "Kata Containers is not installed (Debian 12 does not package it): no "
                                        "containerd-shim-kata-v2 for containerd"
                                      : "containerd: " + shim_binary + " is not installed";
        return p;
    }
    if (runtime_ != "kata" && find_program(runtime_).empty()) {
        p.reason = "containerd: the runtime " + runtime_ + " is not installed";
        return p;
    }
    cs::version::v1::VersionResponse v;
    auto s = Api::call<cs::version::v1::Version::Stub>(*api()->version, &cs::version::v1::Version::Stub::Version,
                                                       google::protobuf::Empty{}, v, 5s);
    if (!s.ok()) {
        p.reason = "containerd is not answering on " + socket_ + ": " + s.error_message();
        return p;
    }
    p.versions["containerd"] = v.version();
    p.available = true;
    return p;
}

Result<std::string> ContainerdDriver::image_snapshot(const ContainerSpec& spec) {
    auto name = image_name(spec);  // "ctrbench-minimal-<hash>": docker's and podman's tag of the image
    if (!name) return name;
    return "ctrbench-image-" + name->substr(std::string("ctrbench-").size());
}

Status ContainerdDriver::prepare(const ContainerSpec& spec) {
    auto key = image_snapshot(spec);
    if (!key) return fail(std::move(key.error()));
    cs::snapshots::v1::StatSnapshotRequest stat;
    stat.set_snapshotter(kSnapshotter);
    stat.set_key(*key);
    cs::snapshots::v1::StatSnapshotResponse info;
    auto s = Api::call<SnapshotsStub>(*api()->snapshots, &SnapshotsStub::Stat, stat, info);
    if (s.ok()) return {};
    if (!not_found(s)) return grpc_fail(s, "stat snapshot " + *key);
    // The image's earlier builds (their names differ only by the hash) go, but not one another checkout
    // of ctrbench still uses, nor one a container still uses (containerd refuses: it has children).
    const std::string earlier = key->substr(0, key->rfind('-') + 1);
    for (const auto& name : list_snapshots(*api()))
        if (name.starts_with(earlier) && name.find("-extract-") == std::string::npos &&
            !build_in_use("containerd", name) && remove_snapshot(*api(), name).ok())
            forget_build("containerd", name);
    // The image's tar extracted into an active snapshot of its own, then committed under the image's name.
    // Labelled a root from the start: containerd's garbage collector removes any snapshot that nothing
    // holds, and it runs after every deletion, other runs' included; unlabelled, the snapshot could go
    // (files and all) while the tar is written into it.
    const std::string active = *key + "-extract-" + std::to_string(::getpid());
    cs::snapshots::v1::PrepareSnapshotRequest prep;
    prep.set_snapshotter(kSnapshotter);
    prep.set_key(active);
    (*prep.mutable_labels())[kGcRoot] = "ctrbench";
    cs::snapshots::v1::PrepareSnapshotResponse mounts;
    s = Api::call<SnapshotsStub>(*api()->snapshots, &SnapshotsStub::Prepare, prep, mounts);
    if (!s.ok()) return grpc_fail(s, "prepare snapshot " + active);
    auto undo = [&](Status st) {
        (void)remove_snapshot(*api(), active);
        return st;
    };
    if (mounts.mounts_size() != 1 || mounts.mounts(0).type() != "bind")
        return undo(fail_msg("containerd: the " + std::string(kSnapshotter) +
                             " snapshotter gave an image's first snapshot no single bind mount"));
    const fs::path target = fs::path(kFifoDir) / active;
    std::error_code ec;
    fs::create_directories(target, ec);
    if (::mount(mounts.mounts(0).source().c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        fs::remove(target, ec);
        return undo(fail_sys("mount " + mounts.mounts(0).source()));
    }
    auto extracted = extract_tar(spec.rootfs.parent_path() / (spec.image + ".tar"), target);
    ::umount2(target.c_str(), MNT_DETACH);
    fs::remove(target, ec);
    if (!extracted) return undo(std::move(extracted));
    cs::snapshots::v1::CommitSnapshotRequest commit;
    commit.set_snapshotter(kSnapshotter);
    commit.set_name(*key);
    commit.set_key(active);
    (*commit.mutable_labels())[kGcRoot] = "ctrbench";
    google::protobuf::Empty e;
    s = Api::call<SnapshotsStub>(*api()->snapshots, &SnapshotsStub::Commit, commit, e);
    if (!s.ok()) return undo(grpc_fail(s, "commit snapshot " + *key));
    record_build("containerd", *key, spec);
    return {};
}

std::vector<std::string> ContainerdDriver::sweep_dead() {
    std::vector<std::string> removed;
    if (std::error_code ec; !fs::exists(socket_, ec)) return removed;
    cs::containers::v1::ListContainersResponse list;
    if (Api::call<ContainersStub>(*api()->containers, &ContainersStub::List,
                                  cs::containers::v1::ListContainersRequest{}, list, 10s)
            .ok())
        for (const auto& c : list.containers()) {
            if (!owner_gone(c.id())) continue;
            (void)kill_and_delete_task(*api(), c.id());
            cs::containers::v1::DeleteContainerRequest del;
            del.set_id(c.id());
            google::protobuf::Empty e;
            if (Api::call<ContainersStub>(*api()->containers, &ContainersStub::Delete, del, e).ok())
                removed.push_back("containerd container " + c.id());
        }
    // Snapshots: a dead run's containers' (a run killed between prepare and create has no container),
    // and a dead prepare's half-extracted image, with its mount point.
    auto dead_extract = [](const std::string& name) {
        const auto at = name.find("-extract-");
        return at != std::string::npos && ::kill(std::stoi("0" + name.substr(at + 9)), 0) != 0 && errno == ESRCH;
    };
    for (const auto& key : list_snapshots(*api()))
        if ((owner_gone(key) || dead_extract(key)) && remove_snapshot(*api(), key).ok())
            removed.push_back("containerd snapshot " + key);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kFifoDir, ec)) {
        const auto name = e.path().filename().string();
        if (owner_gone(name)) {
            ::umount2(e.path().c_str(), MNT_DETACH);
            fs::remove_all(e.path(), ec);
        } else if (dead_extract(name)) {
            ::umount2(e.path().c_str(), MNT_DETACH);
            fs::remove(e.path(), ec);  // an empty mount point once unmounted: never into the snapshot
        }
    }
    return removed;
}

Result<std::unique_ptr<Container>> ContainerdDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    const std::string shim = shim_for(runtime_);
    if (shim.empty()) return fail_msg("containerd: unknown runtime " + runtime_);
    if (spec.read_only_rootfs) return fail_msg("containerd: a read-only rootfs is not supported");
    if (spec.network == NetworkMode::Own && !capabilities().own_network)
        return fail_msg("containerd: network mode 'own' is not supported with " + runtime_);
    auto key = image_snapshot(spec);
    if (!key) return fail(std::move(key.error()));
    oci::ConfigOptions opts;
    opts.cgroups_path = "/" + spec.name;  // at each hierarchy's root, removed with the task
    auto config = oci::make_config(spec, opts);
    if (!config) return fail(std::move(config.error()));
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    auto c = std::make_unique<ContainerdContainer>(api(), spec, (*config)["process"]);
    if (auto s = c->create(*key, shim, runtime_ == "kata" ? "" : runtime_, *config); !s)
        return fail(std::move(s.error()));  // c's destructor removes what containerd made
    return std::unique_ptr<Container>(std::move(c));
}

}  // namespace ctrbench::containerd
