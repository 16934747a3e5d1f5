// boot (thesis 4.2.2): the time to a ready container that has run `/bin/echo Hello World`.
#include "workloads/boot.h"

namespace ctrbench {

std::vector<std::string> BootWorkload::command(const std::string&) const {
    return {"/bin/echo", "Hello World"};
}

Result<Outcome> BootWorkload::check(const ExecResult& r, const std::string&) const {
    if (auto s = expect_success(r); !s) return fail(std::move(s.error()));
    if (r.out != "Hello World\n")
        return fail_msg("expected 'Hello World' on stdout, got '" + r.out.substr(0, 80) + "'");
    return Outcome{};
}

}  // namespace ctrbench
