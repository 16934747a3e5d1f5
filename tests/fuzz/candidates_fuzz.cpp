// libFuzzer target: the candidate file parser and the --matrix selection. An input starting with
// "S" is a selection ("all", "driver=docker,storage=vfs|btrfs", names) against the project's own
// candidates.yml; anything else is a candidate file. Every rejection is one line; nothing crashes
// or throws. Run by tests/fuzz.sh for a bounded time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/candidates.h"

using namespace ctrbench;

namespace {

void one_line(const Error& e) {
    if (e.message().empty() || e.message().find('\n') != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto real = load_candidates(CTRBENCH_CANDIDATES);
    if (!real) std::abort();  // the project's own file must parse
    std::string text(reinterpret_cast<const char*>(data), size);
    if (!text.empty() && text[0] == 'S') {
        auto sel = select_candidates(*real, text.substr(1));
        if (!sel) one_line(sel.error());
        return 0;
    }
    auto file = parse_candidates(text);
    if (!file) {
        one_line(file.error());
        return 0;
    }
    if (auto sel = select_candidates(*file, "all"); !sel) one_line(sel.error());
    return 0;
}
