#include "workloads/throughput.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "workloads/boot.h"

namespace ctrbench {

Status ThroughputWorkload::prepare(ContainerSpec&, const std::string& param) const {
    if (!accepts(param)) return fail_msg("throughput concurrency must be a number from 1 to 256, got '" + param + "'");
    return {};
}

std::vector<std::string> ThroughputWorkload::command(const std::string&) const {
    return BootWorkload().command("");
}

Result<Outcome> ThroughputWorkload::check(const ExecResult& r, const std::string&) const {
    return BootWorkload().check(r, "");
}

Result<Outcome> ThroughputWorkload::measure(Driver& driver, const ContainerSpec& base, const std::string& param) const {
    ContainerSpec spec0 = base;
    if (auto s = prepare(spec0, param); !s) return fail(std::move(s.error()));
    const int workers = std::stoi(param);
    std::atomic<long> done{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::string first_error;
    const auto t0 = std::chrono::steady_clock::now();
    const auto until = t0 + kWindow;
    auto worker = [&](int w) {
        for (long k = 0; std::chrono::steady_clock::now() < until && !failed; ++k) {
            ContainerSpec spec = spec0;
            spec.name = base.name + "-w" + std::to_string(w) + "-" + std::to_string(k);
            auto record = [&](const Error& e) {
                std::lock_guard lock(mu);
                if (!failed.exchange(true)) first_error = "worker " + std::to_string(w) + ": " + e.message();
            };
            auto c = driver.create(spec);
            if (!c) return record(c.error());
            auto& ct = **c;
            Status st = ct.start();
            if (st) {
                auto r = ct.exec(command(param), spec.timeout);
                if (!r)
                    st = fail(std::move(r.error()));
                else if (auto ok = check(*r, param); !ok)
                    st = fail(std::move(ok.error()));
            }
            auto stopped = ct.stop();
            auto cleaned = ct.clean();
            if (!st) return record(st.error());
            if (!stopped) return record(stopped.error());
            if (!cleaned) return record(cleaned.error());
            ++done;
        }
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) threads.emplace_back(worker, w);
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (failed) return fail_msg(first_error);
    char buf[120];
    std::snprintf(buf, sizeof buf, "%ld containers in %.3f s by %d workers", done.load(), secs, workers);
    return Outcome{static_cast<double>(done.load()) / secs, "containers/s", buf};
}

}  // namespace ctrbench
