#include "workloads/service.h"

#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "workloads/checkpoint.h"
#include "workloads/net.h"

namespace ctrbench {

namespace fs = std::filesystem;

// The pre-started containers of a service-pool parameter, found by its images directory: made by
// setup(), taken and refilled by measure(), stopped and removed when the parameter's runs are done.
struct ServicePool {
    std::vector<std::unique_ptr<Container>> ready;
    ~ServicePool();
};

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kAgent = "/usr/bin/ctrbench-agent";
constexpr const char* kEngineFile = "checkpoint.tar";
constexpr int kMaxPool = 8;
constexpr const char* kRestoreMode = "lazy";

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Status finish(Container& c, Status st) {
    auto stopped = c.stop();
    auto cleaned = c.clean();
    if (!st) return st;
    return !stopped ? stopped : cleaned;
}

std::mutex g_pools_mu;
std::map<std::string, std::weak_ptr<ServicePool>> g_pools;

std::shared_ptr<ServicePool> pool_of(const fs::path& images) {
    std::lock_guard lock(g_pools_mu);
    auto it = g_pools.find(images.string());
    return it == g_pools.end() ? nullptr : it->second.lock();
}

// What setup() leaves for the parameter's runs: the images directory (removed at the end) and the pool.
struct Kept {
    fs::path dir;
    std::shared_ptr<ServicePool> pool;
    ~Kept() {
        if (pool) {
            std::lock_guard lock(g_pools_mu);
            g_pools.erase(dir.string());
        }
        pool.reset();  // its containers go before their images
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

}  // namespace

ServicePool::~ServicePool() {
    for (auto& c : ready) (void)finish(*c, {});
}

std::string ServiceWorkload::name() const {
    switch (mode_) {
        case Mode::Cold:
            return "service";
        case Mode::Restored:
            return "service-restored";
        case Mode::Pool:
            return "service-pool";
    }
    return "service";
}

std::string ServiceWorkload::description() const {
    switch (mode_) {
        case Mode::Cold:
            return "an HTTP service (python: Flask; jvm: OpenJDK) booted cold: create until its first correct 200";
        case Mode::Restored:
            return "the same service restored from a CRIU checkpoint taken once it answered: create until its first "
                   "correct 200";
        case Mode::Pool:
            return "the JVM service restored into one of N pre-started containers: request until its first correct "
                   "200, and the pool's refill";
    }
    return "";
}

std::vector<std::string> ServiceWorkload::param_values() const {
    if (mode_ == Mode::Pool) return {"0", "2"};
    return {"python", "jvm"};
}

bool ServiceWorkload::accepts(const std::string& v) const {
    if (mode_ != Mode::Pool) return v == "python" || v == "jvm";
    return v == "0" || positive_number(v, kMaxPool);
}

std::string ServiceWorkload::param_hint() const {
    return mode_ == Mode::Pool ? "a pool size from 0 (no pool) to 8, default 0, 2" : "python or jvm";
}

std::vector<std::string> ServiceWorkload::service_command(const std::string& app) {
    const std::string port = std::to_string(kPort);
    if (app == "jvm")  // no hsperfdata file (the restoring container has none), a heap of its own size
        return {"/usr/bin/java", "-XX:-UsePerfData",      "-Xmx128m", "-XX:+UseSerialGC",
                "-cp",           "/opt/ctrbench/service", "Server",   port};
    return {"/usr/bin/python3", "/opt/ctrbench/service/app.py", port};
}

std::string ServiceWorkload::unsupported(const Capabilities& caps, const fs::path& rootfs) const {
    if (auto why = no_network_reason(caps); !why.empty()) return why;
    for (const char* f : {"usr/bin/ctrbench-agent", "opt/ctrbench/service/app.py", "opt/ctrbench/service/Server.class"})
        if (!fs::exists(rootfs / f))
            return std::string("the image has no /") + f +
                   " (the service image: cmake --build build --target image-service)";
    if (mode_ == Mode::Cold) return "";
    if (!caps.checkpoint && !caps.engine_checkpoint)
        return "no CRIU path: its containers cannot run CRIU, and " +
               (caps.checkpoint_why.empty() ? std::string("its engine cannot checkpoint a container")
                                            : caps.checkpoint_why);
    if (!caps.checkpoint)
        return mode_ == Mode::Pool
                   ? "its engine restores a checkpoint only as a new container, not into a pre-started one"
                   : "";
    return criu_unsupported(caps);
}

bool ServiceWorkload::measures_itself_with(const Capabilities& caps) const {
    return mode_ == Mode::Pool || (mode_ == Mode::Restored && !caps.checkpoint && caps.engine_checkpoint);
}

Status ServiceWorkload::prepare(ContainerSpec& spec, const std::string& param) const {
    if (!accepts(param))
        return fail_msg(name() + " " + param_name() + " must be " + param_hint() + ", got '" + param + "'");
    spec.network = NetworkMode::Own;
    spec.publish = {kPort};
    if (mode_ == Mode::Cold) return {};
    if (auto s = criu_in_container(spec, name()); !s) return s;
    return made_on_this_kernel(spec);
}

std::vector<std::string> ServiceWorkload::command(const std::string& param) const {
    if (mode_ == Mode::Cold) {
        std::vector<std::string> argv = {kAgent, "service-start"};
        for (auto& a : service_command(app(param))) argv.push_back(a);
        return argv;
    }
    return {kAgent, "criu-restore", CheckpointWorkload::kImages, kWork, kRestoreMode, "tcp-close"};
}

Result<Outcome> ServiceWorkload::check(const ExecResult& r, const std::string& param) const {
    if (mode_ == Mode::Cold) {
        if (!r.ok()) return fail_msg("start the " + app(param) + " service: " + one_line(r.err));
        return Outcome{};
    }
    if (!r.ok()) return fail_msg("criu restore of the " + app(param) + " service: " + one_line(r.err));
    auto us = agent_field(r.out, "restore_us");
    if (!us) return fail_msg("criu-restore said no time: " + one_line(r.out));
    Outcome o;
    o.figures["restore_ms"] = static_cast<double>(*us) / 1000.0;
    return o;
}

Result<int> ServiceWorkload::first_correct_answer(const std::string& endpoint, std::chrono::milliseconds deadline) {
    const auto colon = endpoint.rfind(':');
    httplib::Client cli(endpoint.substr(0, colon), std::stoi(endpoint.substr(colon + 1)));
    cli.set_keep_alive(false);
    cli.set_connection_timeout(std::chrono::milliseconds(500));
    cli.set_read_timeout(std::chrono::seconds(5));
    const std::string path = "/?key=" + std::to_string(kKey);
    const std::string want = "{\"value\": " + std::to_string(kKey) + "}";
    const auto until = Clock::now() + deadline;
    int polls = 0;
    std::string last = "no answer";
    while (Clock::now() < until) {
        ++polls;
        if (auto res = cli.Get(path)) {
            std::string body = res->body;
            while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
            if (res->status == 200 && body == want) return polls;
            if (res->status == 200)
                return fail_msg("the service at " + endpoint + " answered 200 with '" + one_line(body.substr(0, 80)) +
                                "', not '" + want + "'");
            last = "HTTP " + std::to_string(res->status);
        } else {
            last = httplib::to_string(res.error());
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    return fail_msg("the service at " + endpoint + " never became ready: no correct answer within " +
                    std::to_string(deadline.count()) + " ms (" + std::to_string(polls) + " polls, last: " + last + ")");
}

Result<Outcome> ServiceWorkload::await_response(Container& c, const std::string& param,
                                                std::chrono::milliseconds deadline) const {
    auto ep = c.endpoint(kPort);
    if (!ep) return fail(std::move(ep.error()));
    auto polls = first_correct_answer(*ep, deadline);
    if (!polls) return fail(std::move(polls.error()).wrap("the " + app(param) + " service"));
    return Outcome{
        static_cast<double>(*polls), "requests",
        app(param) + " service: first correct 200 from " + *ep + " after " + std::to_string(*polls) + " polls"};
}

namespace {

// The container an engine dumps the service in, and the one it restores into: docker makes the
// restored one from the spec, so it needs the same network and published port.
ContainerSpec engine_container(ContainerSpec spec) {
    spec.network = NetworkMode::Own;
    spec.publish = {ServiceWorkload::kPort};
    return spec;
}

// The service booted cold in container `c` (started) until its first correct answer: its pid.
Result<long long> boot_until_ready(Container& c, const std::vector<std::string>& command, const std::string& what,
                                   std::chrono::milliseconds deadline) {
    std::vector<std::string> argv = {kAgent, "service-start", "--high-pid"};  // a pid the restore finds free
    argv.insert(argv.end(), command.begin(), command.end());
    auto started = c.exec(argv, deadline);
    if (!started) return fail(std::move(started.error()).wrap("start the " + what));
    if (auto s = expect_success(*started); !s) return fail(std::move(s.error()).wrap("start the " + what));
    auto pid = agent_field(started->out, "pid");
    if (!pid) return fail_msg("service-start said no pid: " + one_line(started->out));
    auto ep = c.endpoint(ServiceWorkload::kPort);
    if (!ep) return fail(std::move(ep.error()));
    if (auto polls = ServiceWorkload::first_correct_answer(*ep, deadline); !polls)
        return fail(std::move(polls.error()).wrap("the " + what + " before its checkpoint"));
    return *pid;
}

// The ready service dumped: by the engine into `dir`, or by CRIU inside the container. The dump's ms.
Result<double> dump_service(Container& c, long long pid, bool engine, const fs::path& dir, const std::string& what,
                            std::chrono::milliseconds deadline) {
    if (engine) {
        const auto t0 = Clock::now();
        if (auto s = c.checkpoint(dir / kEngineFile); !s) return fail(std::move(s.error()));
        return ms_since(t0);
    }
    // Connections are dumped closed: the polls' are gone, but a server may not have closed its end yet.
    auto dumped = c.exec(
        {kAgent, "criu-dump", std::to_string(pid), CheckpointWorkload::kImages, ServiceWorkload::kWork, "tcp-close"},
        deadline);
    if (!dumped) return fail(std::move(dumped.error()));
    if (!dumped->ok()) return fail_msg("criu dump of the " + what + ": " + one_line(dumped->err));
    auto us = agent_field(dumped->out, "dump_us");
    if (!us) return fail_msg("criu-dump said no time: " + one_line(dumped->out));
    return static_cast<double>(*us) / 1000.0;
}

}  // namespace

Result<Workload::Setup> ServiceWorkload::setup(Driver& driver, const ContainerSpec& base,
                                               const std::string& param) const {
    if (mode_ == Mode::Cold) return Setup{};
    (void)CheckpointWorkload::sweep_dead();
    if (!accepts(param))
        return fail_msg(name() + " " + param_name() + " must be " + param_hint() + ", got '" + param + "'");
    const bool engine = !driver.capabilities().checkpoint;
    const std::string what = app(param) + " service";
    auto made = images_directory("service-" + app(param));
    if (!made) return fail(std::move(made.error()));
    auto kept = std::make_shared<Kept>();
    kept->dir = *made;
    // The service, booted cold once, dumped once it answered.
    ContainerSpec spec = base;
    if (engine) {  // the engine's own checkpoint: no CRIU of ours in the container
        spec = engine_container(spec);
    } else if (auto s = prepare(spec, param); !s) {
        return fail(std::move(s.error()));
    } else {
        spec.mounts.push_back({kept->dir, CheckpointWorkload::kImages, false});
    }
    auto c = driver.create(spec);
    if (!c) return fail(std::move(c.error()).wrap("the " + what + "'s first container"));
    if (auto s = (*c)->start(); !s)
        return fail(finish(**c, std::move(s)).error().wrap("the " + what + "'s first container"));
    auto pid = boot_until_ready(**c, service_command(app(param)), what, spec.timeout);
    if (!pid) return fail(finish(**c, fail(std::move(pid.error()))).error());
    auto dump_ms = dump_service(**c, *pid, engine, kept->dir, what, spec.timeout);
    if (auto s = finish(**c, dump_ms ? Status{} : fail(std::move(dump_ms.error()))); !s)
        return fail(std::move(s.error()));
    if (auto s = stamp_kernel(kept->dir); !s) return fail(std::move(s.error()));
    Setup out;
    out.figures["dump_ms"] = *dump_ms;
    out.mounts.push_back({kept->dir, CheckpointWorkload::kImages, true});
    if (mode_ == Mode::Pool && param != "0") {
        kept->pool = std::make_shared<ServicePool>();
        if (auto s = fill_pool(driver, base, out.mounts.back(), param, *kept->pool); !s)
            return fail(std::move(s.error()));
        std::lock_guard lock(g_pools_mu);
        g_pools[kept->dir.string()] = kept->pool;
    }
    out.keep = kept;
    return out;
}

// The pool: containers ready for a restore (created, started, their network up), before any request.
Status ServiceWorkload::fill_pool(Driver& driver, const ContainerSpec& base, const BindMount& images,
                                  const std::string& param, ServicePool& pool) const {
    ContainerSpec ps = base;
    ps.mounts.push_back(images);
    if (auto s = prepare(ps, param); !s) return s;
    for (int i = 0; i < std::stoi(param); ++i) {
        ps.name = base.name + "-pool" + std::to_string(i);
        auto p = driver.create(ps);
        if (!p) return fail(std::move(p.error()).wrap("the pool's container"));
        if (auto s = (*p)->start(); !s) return fail(finish(**p, std::move(s)).error().wrap("the pool's container"));
        pool.ready.push_back(std::move(*p));
    }
    return {};
}

Result<Outcome> ServiceWorkload::measure(Driver& driver, const ContainerSpec& base, const std::string& param) const {
    const auto images = std::find_if(base.mounts.begin(), base.mounts.end(),
                                     [](const BindMount& m) { return m.target == CheckpointWorkload::kImages; });
    if (images == base.mounts.end()) return fail_msg("no checkpoint was made for this run (no setup)");
    const std::string what = app(param) + " service";
    Outcome o;
    if (!driver.capabilities().checkpoint) {  // the engine restores a new container from its checkpoint
        if (auto s = made_on_this_kernel(base); !s) return fail(std::move(s.error()));  // CRIU's path: prepare()
        const auto t0 = Clock::now();
        auto c = driver.restore(engine_container(base), images->source / kEngineFile);
        o.figures["restore_ms"] = ms_since(t0);
        if (!c) return fail(std::move(c.error()));
        auto ep = (*c)->endpoint(kPort);
        auto polls = ep ? first_correct_answer(*ep, base.timeout) : Result<int>(fail(std::move(ep.error())));
        o.figures["ready_ms"] = ms_since(t0);
        if (auto s = finish(**c, polls ? Status{} : fail(std::move(polls.error()).wrap("the restored " + what))); !s)
            return fail(std::move(s.error()));
        o.value = o.figures["ready_ms"];
        o.unit = "ms to first 200";
        o.detail = "engine restore (its container included), then the first correct 200 after " +
                   std::to_string(*polls) + " polls";
        return o;
    }
    ContainerSpec spec = base;
    if (auto s = prepare(spec, param); !s) return fail(std::move(s.error()));
    auto pool = pool_of(images->source);
    if (param != "0" && (!pool || pool->ready.empty())) return fail_msg("the pool has no container ready");
    const auto t0 = Clock::now();
    std::unique_ptr<Container> c;
    if (pool) {  // the request takes a ready container
        c = std::move(pool->ready.front());
        pool->ready.erase(pool->ready.begin());
    } else {  // no pool: the request makes its container first
        auto made = driver.create(spec);
        if (!made) return fail(std::move(made.error()));
        c = std::move(*made);
        if (auto s = c->start(); !s) return fail(finish(*c, std::move(s)).error());
    }
    auto restored = c->exec(command(param), spec.timeout);
    Status st;
    if (!restored)
        st = fail(std::move(restored.error()));
    else if (auto out = check(*restored, param); !out)
        st = fail(std::move(out.error()));
    else
        o.figures = out->figures;
    if (st) {
        auto r = await_response(*c, param, spec.timeout);
        o.figures["ready_ms"] = ms_since(t0);
        if (!r)
            st = fail(std::move(r.error()));
        else
            o.detail = r->detail;
    }
    if (auto s = finish(*c, std::move(st)); !s) return fail(std::move(s.error()));
    if (pool) {  // the refill, off the request's path: a new container takes the used one's place
        const auto t1 = Clock::now();
        spec.name = base.name + "-refill";
        auto made = driver.create(spec);
        if (!made) return fail(std::move(made.error()).wrap("refill the pool"));
        if (auto s = (*made)->start(); !s) return fail(finish(**made, std::move(s)).error().wrap("refill the pool"));
        o.figures["refill_ms"] = ms_since(t1);
        pool->ready.push_back(std::move(*made));
    }
    o.value = o.figures["ready_ms"];
    o.unit = "ms to first 200";
    o.detail = (pool ? "from a pool of " + param + ": " : "no pool: ") + o.detail;
    return o;
}

std::map<std::string, std::string> ServiceWorkload::versions() const {
    if (mode_ == Mode::Cold) return {};
    if (auto c = criu_for_containers(); c) return {{"criu", c->version}};
    return {};
}

}  // namespace ctrbench
