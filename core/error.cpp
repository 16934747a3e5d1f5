#include "core/error.h"

#include <cstring>

namespace ctrbench {

Error Error::sys(int err, std::string what) {
    Error e;
    e.err_ = err;
    e.chain_.push_back(std::move(what));
    return e;
}

Error Error::msg(std::string what) {
    Error e;
    e.chain_.push_back(std::move(what));
    return e;
}

Error&& Error::wrap(std::string outer) && {
    chain_.push_back(std::move(outer));
    return std::move(*this);
}

Error& Error::wrap(std::string outer) & {
    chain_.push_back(std::move(outer));
    return *this;
}

std::string Error::message() const {
    std::string out;
    for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
        if (!out.empty()) out += ": ";
        out += *it;
    }
    if (err_ != 0) {
        if (!out.empty()) out += ": ";
        out += std::strerror(err_);
    }
    for (char& c : out)
        if (c == '\n') c = ' ';  // the contract is one line
    return out;
}

}  // namespace ctrbench
