#include "core/run_status.h"

#include <array>
#include <ostream>
#include <utility>

namespace ctrbench {

namespace {
constexpr std::array<std::pair<RunStatus, std::string_view>, 6> kNames{{{RunStatus::Ok, "ok"},
                                                                        {RunStatus::Error, "error"},
                                                                        {RunStatus::Timeout, "timeout"},
                                                                        {RunStatus::Oom, "oom"},
                                                                        {RunStatus::Interrupted, "interrupted"},
                                                                        {RunStatus::Skipped, "skipped"}}};
}  // namespace

std::string_view to_string(RunStatus s) {
    for (const auto& [st, name] : kNames)
        if (st == s) return name;
    return "error";
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
    for (const auto& [st, name] : kNames)
        if (name == s) return st;
    return std::nullopt;
}

bool is_failure(RunStatus s) {
    return s == RunStatus::Error || s == RunStatus::Timeout || s == RunStatus::Oom;
}

std::ostream& operator<<(std::ostream& os, RunStatus s) {
    return os << to_string(s);
}

}  // namespace ctrbench
