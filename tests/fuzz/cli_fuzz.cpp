// libFuzzer target: the harness's command line. The input is split into arguments at newlines; every
// outcome is help (exit 0), a run to do, or one line naming the problem with exit 2: never a crash,
// an exception, or a message of several lines. Run by tests/fuzz.sh for a bounded time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "drivers/driver.h"
#include "harness/cli.h"
#include "workloads/workload.h"

using namespace ctrbench;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const DriverRegistry drivers = builtin_drivers();
    static const WorkloadRegistry workloads = builtin_workloads();
    std::vector<std::string> args;
    std::string cur;
    for (std::size_t i = 0; i < size && args.size() < 24; ++i) {
        if (data[i] == '\n') {
            args.push_back(cur);
            cur.clear();
        } else {
            cur += static_cast<char>(data[i]);
        }
    }
    if (!cur.empty()) args.push_back(cur);
    ParseOutcome r = parse_cli(args, drivers, workloads);
    if (r.proceed) return 0;
    if (r.exit_code == 0) return 0;  // --help: several lines on stdout, by design
    if (r.exit_code != 2 || r.message.empty()) std::abort();
    std::string msg = r.message;
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (msg.find('\n') != std::string::npos) std::abort();  // a rejection is one line
    return 0;
}
