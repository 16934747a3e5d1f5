// What the liblxc-based engines (lxc, LXD) share: how a container whose first process or exec'd
// command leaves a thread traced by its launcher (PTRACE_TRACEME) is ended. Such a thread stays a
// zombie once its process has ended, and only its tracer could reap it: lxc's monitor (for the first
// process) and LXD's `lxd forkexec` (for a command) never do, so the container never stops and the
// exec never returns. Killing the tracer releases the thread (the kernel detaches its tracees).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ctrbench {

// Removes the cgroups liblxc makes for a container and its monitor (lxc.payload.<name>,
// lxc.monitor.<name>) in every hierarchy, waiting up to `attempts` × 50 ms for them to empty. LXD
// at times leaves the monitor's behind in one hierarchy (seen: blkio) after the instance is gone.
// True when none is left.
bool remove_lxc_cgroups(const std::string& name, int attempts = 40);

// The same, without waiting, for every container whose name owner_gone() (a ctrbench run killed
// before it could clean) and whose cgroups are empty; what it removed, a line each.
std::vector<std::string> sweep_lxc_cgroups();

// When a thread of `init` is traced by its parent (lxc's monitor): kills the monitor and `init`, waits
// for it to go, and removes the cgroups the monitor would have (lxc.payload.<name>, lxc.monitor.<name>).
// True when the container was such a one and is now gone.
bool stop_wedged_monitor(pid_t init, const std::string& name);

// The launchers whose command line starts with `launcher_prefix` ("/usr/bin/lxd forkexec <name> ")
// that trace a thread of an ended child (a zombie): killed. How many.
int kill_wedged_launchers(const std::string& launcher_prefix);

}  // namespace ctrbench
