// Ctrl-C and SIGTERM: the harness finishes cleaning the container in hand, keeps what it measured,
// and stops. Handlers are installed without SA_RESTART so blocking waits return EINTR at once.
#pragma once

namespace ctrbench {

void install_interrupt_handlers();
bool interrupted();

}  // namespace ctrbench
