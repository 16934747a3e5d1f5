// The one error type that crosses every boundary in ctrbench (crun's contract):
// an errno (0 when none applies) and a chain of context, innermost first.
// Fallible functions return std::expected<T, Error>; main prints it once.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <vector>

namespace ctrbench {

class Error {
public:
    Error() = default;
    // A failure of a syscall or library call: `what` names the call and its object, e.g. "mount /proc".
    static Error sys(int err, std::string what);
    // A failure with no errno: bad input, an unexpected state.
    static Error msg(std::string what);

    // Adds outer context as the error travels up: "create lean container x".
    Error&& wrap(std::string outer) &&;
    Error& wrap(std::string outer) &;

    int err() const { return err_; }
    // "outer: inner: strerror(err)" on one line.
    std::string message() const;

private:
    int err_ = 0;
    std::vector<std::string> chain_;  // innermost first
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Error e) {
    return std::unexpected<Error>(std::move(e));
}
inline std::unexpected<Error> fail_sys(std::string what, int err = errno) {
    return std::unexpected<Error>(Error::sys(err, std::move(what)));
}
inline std::unexpected<Error> fail_msg(std::string what) {
    return std::unexpected<Error>(Error::msg(std::move(what)));
}

}  // namespace ctrbench
