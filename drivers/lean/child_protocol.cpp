#include "drivers/lean/child_protocol.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ctrbench::lean {
namespace {

// Reads exactly n bytes unless EOF comes first; returns the bytes read (EINTR retried).
std::size_t read_full(int fd, void* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, static_cast<char*>(buf) + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

// Waits for fd to be readable: true if readable, false on timeout (errno = ETIMEDOUT) or error.
bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r == 0) errno = ETIMEDOUT;
    return r > 0;
}

struct ErrorRecord {
    int err;
    char what[244];
};

// After 'E': the record, as an Error.
Error read_error(int fd, const char* without_record) {
    ErrorRecord rec{};
    if (read_full(fd, &rec, sizeof rec) != sizeof rec) return Error::msg(without_record);
    return Error::sys(rec.err, std::string(rec.what, strnlen(rec.what, sizeof rec.what)));
}

}  // namespace

void send_error(int fd, int err, const char* what) {
    char buf[1 + sizeof(ErrorRecord)] = {kError};
    ErrorRecord rec{};
    rec.err = err;
    for (std::size_t i = 0; what && what[i] && i + 1 < sizeof rec.what; ++i) rec.what[i] = what[i];
    std::memcpy(buf + 1, &rec, sizeof rec);
    (void)!::write(fd, buf, sizeof buf);
}

bool send_ready(int fd) {
    return ::write(fd, &kReady, 1) == 1;
}

bool await_go(int fd) {
    char cmd = 0;
    return read_full(fd, &cmd, 1) == 1 && cmd == kGo;
}

bool await_mapped(int fd) {
    char msg = 0;
    return read_full(fd, &msg, 1) == 1 && msg == kMapped;
}

Status await_ready(int fd, int timeout_ms) {
    if (!wait_readable(fd, timeout_ms)) return fail_sys("wait for the container's setup");
    char msg = 0;
    if (read_full(fd, &msg, 1) == 1 && msg == kReady) return {};
    if (msg == kError) return fail(read_error(fd, "container setup failed without saying why"));
    return fail_msg("container setup ended without a word");
}

Status send_go(int fd) {
    if (::write(fd, &kGo, 1) != 1) return fail_sys("signal the container to start");
    return {};
}

Status await_exec(int fd) {
    char msg = 0;
    std::size_t n = read_full(fd, &msg, 1);
    if (n == 0) return {};  // EOF: the close-on-exec pipe closed, so execve succeeded
    if (msg == kError) return fail(read_error(fd, "exec failed without saying why"));
    return fail_msg("unexpected message from the container");
}

}  // namespace ctrbench::lean
