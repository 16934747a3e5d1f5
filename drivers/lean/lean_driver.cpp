#include "drivers/lean/lean_driver.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "drivers/common/layer.h"
#include "drivers/common/veth.h"
#include "drivers/lean/container.h"
#include "drivers/lean/userns.h"

namespace ctrbench::lean {
namespace {

class LeanContainer final : public ctrbench::Container {
public:
    LeanContainer(std::unique_ptr<lean::Sandbox> c, CgroupPool* pool, fs::path layer)
        : c_(std::move(c)), pool_(pool), layer_(std::move(layer)) {}
    ~LeanContainer() override { (void)clean(); }

    Status start() override { return c_->start(); }
    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        return c_->exec(argv, timeout);
    }
    Status stop() override { return c_->kill(); }
    Result<std::string> endpoint(int port) override { return link_endpoint(link_, port); }
    Result<std::string> host_end() override { return link_host_end(link_); }
    Status attach_link() {
        auto l = attach_veth(c_->pid());
        if (!l) return fail(std::move(l.error()));
        link_ = *l;
        return {};
    }
    Status clean() override {
        if (!c_) return {};
        if (auto s = c_->kill(); !s) return s;
        Cgroup* cg = c_->cgroup();
        c_.reset();
        // The overlay died with the mount namespace; its upper layer on disk is ours to remove.
        if (!layer_.empty()) {
            std::error_code ec;
            fs::remove_all(layer_, ec);
            if (ec) return fail(Error::sys(ec.value(), "remove the writable layer " + layer_.string()));
        }
        return cg ? pool_->release(cg) : Status{};
    }

private:
    std::unique_ptr<lean::Sandbox> c_;
    CgroupPool* pool_;
    fs::path layer_;  // the writable layer on disk, or empty (tmpfs, or a read-only rootfs)
    std::optional<VethLink> link_;
};

bool has_filesystem(const std::string& name) {
    std::ifstream in("/proc/filesystems");
    for (std::string line; std::getline(in, line);)
        if (line.ends_with("\t" + name)) return true;
    return false;
}

}  // namespace

std::string LeanDriver::description() const {
    return "ctrbench's own runtime: namespaces, overlay rootfs, pivot_root, pooled cgroups (seed 000)";
}

Status LeanDriver::use_storage(const std::string& storage) {
    auto s = parse_layer_storage(name(), storage);
    if (!s) return fail(std::move(s.error()));
    storage_ = *s;
    return {};
}

std::vector<std::string> LeanDriver::sweep_dead() {
    auto removed = sweep_stale_layers(name());
    if (auto layout = discover_cgroups())
        for (const auto& base : layout->bases) {
            auto pools = sweep_stale_pools(base);
            removed.insert(removed.end(), pools.begin(), pools.end());
        }
    return removed;
}

Capabilities LeanDriver::capabilities() const {
    Capabilities c;
    c.read_only_rootfs = true;
    c.unconfined_seccomp = true;
    c.userns = true;
    c.own_network = true;
    c.checkpoint = true;  // CRIU runs inside its containers (the checkpoint workloads)
    return c;
}

Probe LeanDriver::probe() {
    Probe p;
    p.runtime = "lean";
    p.storage = layer_storage_name(storage_);
    utsname u{};
    ::uname(&u);
    p.versions["kernel"] = u.release;
    if (::geteuid() != 0) {
        p.reason = "needs root (namespaces, mounts and cgroups): run as root";
        return p;
    }
    if (!has_filesystem("overlay")) {
        p.reason = "the kernel has no overlay filesystem (modprobe overlay)";
        return p;
    }
    auto layout = discover_cgroups();
    if (!layout) {
        p.reason = layout.error().message();
        return p;
    }
    p.versions["cgroup"] = layout->describe();
    p.available = true;
    return p;
}

Status LeanDriver::prepare(const ContainerSpec& spec) {
    if (!spec.userns) return {};
    if (auto r = userns_rootfs(spec.rootfs); !r) return fail(std::move(r.error()));
    return {};
}

Result<std::unique_ptr<ctrbench::Container>> LeanDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    {
        std::lock_guard lock(pool_mu_);
        if (!pool_) {
            auto layout = discover_cgroups();
            if (!layout) return fail(std::move(layout.error()));
            auto pool = CgroupPool::open(*layout);
            if (!pool) return fail(std::move(pool.error()).wrap("open the cgroup pool"));
            pool_ = std::move(*pool);  // opening it swept the pools of dead runs
            (void)sweep_stale_layers(name());
        }
    }
    Config cfg;
    cfg.name = spec.name;
    cfg.rootfs = spec.rootfs;
    cfg.argv = spec.init;
    cfg.env = spec.env;
    cfg.workdir = spec.workdir;
    cfg.hostname = spec.hostname;
    cfg.own_netns = spec.network != NetworkMode::Host;
    cfg.read_only_rootfs = spec.read_only_rootfs;
    cfg.writable_bytes = spec.limits.writable_bytes;
    cfg.mounts = spec.mounts;
    cfg.add_caps = spec.add_caps;
    cfg.seccomp = spec.seccomp;
    cfg.userns = spec.userns;
    if (storage_ == LayerStorage::Disk && !spec.read_only_rootfs) {
        cfg.layer_dir = layer_dir(name(), spec.name);
        std::error_code ec;
        fs::create_directories(cfg.layer_dir, ec);
        if (ec) return fail(Error::sys(ec.value(), "mkdir the writable layer " + cfg.layer_dir.string()));
    }
    auto drop_layer = [&] {
        std::error_code ec;
        if (!cfg.layer_dir.empty()) fs::remove_all(cfg.layer_dir, ec);
    };
    auto cg = pool_->acquire(spec.limits);
    if (!cg) {
        drop_layer();
        return fail(std::move(cg.error()));
    }
    auto c = lean::Sandbox::create(cfg, *cg);
    if (!c) {
        (void)pool_->release(*cg);
        drop_layer();
        return fail(std::move(c.error()));
    }
    auto handle = std::make_unique<LeanContainer>(std::move(*c), pool_.get(), cfg.layer_dir);
    if (spec.network == NetworkMode::Own)
        if (auto s = handle->attach_link(); !s) return fail(std::move(s.error()));  // the handle cleans up
    return std::unique_ptr<ctrbench::Container>(std::move(handle));
}

}  // namespace ctrbench::lean
