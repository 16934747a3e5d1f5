// One probe of the isolation workload: an attempt made from inside a container and what came of it.
// A run that has probes writes one CSV row per probe after its own row (harness/result_sink.cpp).
#pragma once

#include <string>

namespace ctrbench {

struct ProbeResult {
    enum class Verdict { Blocked, Allowed, Untried };
    std::string name;  // "family/probe": "files/proc1-root"
    Verdict verdict = Verdict::Untried;
    std::string detail;  // what stopped it, what it reached, or why it was not tried
};

inline const char* to_string(ProbeResult::Verdict v) {
    return v == ProbeResult::Verdict::Blocked ? "blocked" : v == ProbeResult::Verdict::Allowed ? "allowed" : "untried";
}

}  // namespace ctrbench
