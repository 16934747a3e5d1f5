// How a lean container's parent and child agree on its sequence, over two pipes: the child sets up
// (apply_setup) and says so on the status pipe ('R'), or says what failed ('E' + errno and step)
// and exits; it then waits for 'G' on the go pipe (start) and execs; the status pipe, close-on-exec,
// reaches EOF when execve succeeded, or carries 'E' + record when it failed. In run mode there is no
// 'R' and no 'G': setup runs straight into exec. In a user namespace of its own, the child first
// waits for 'M' on a third pipe: the parent wrote its id maps. The child's side is async-signal-safe.
#pragma once

#include "core/error.h"

namespace ctrbench::lean {

inline constexpr char kReady = 'R';
inline constexpr char kError = 'E';
inline constexpr char kGo = 'G';
inline constexpr char kMapped = 'M';  // userns: the parent wrote the child's id maps

// Child side. A failure: 'E', errno and what failed ("mount proc on /proc"). Async-signal-safe.
void send_error(int status_fd, int err, const char* what);
// Child side: set up, waiting for start. False when the parent is gone.
bool send_ready(int status_fd);
// Child side: waits for the parent's 'G'. False when the parent gave up (EOF, anything else).
bool await_go(int go_fd);
// Child side, in a user namespace: waits for the parent's 'M'. False when the parent gave up.
bool await_mapped(int mapped_fd);

// Parent side: the child is set up ('R' within timeout_ms), or the error it sent, or that it ended
// without a word, or a timeout (ETIMEDOUT).
Status await_ready(int status_fd, int timeout_ms);
// Parent side: lets a set-up child exec.
Status send_go(int go_fd);
// Parent side, after 'G' (or in run mode): the child exec'd (EOF), or the error it sent.
Status await_exec(int status_fd);

}  // namespace ctrbench::lean
