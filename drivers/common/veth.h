// A link into a container's network namespace for the drivers without networking of their own
// (lean, crun, runc, lxc, lxd, containerd): a veth pair, the host end in the host's namespace, the
// other named eth0 in the container's, each with an address of a /30 in 10.213.0.0/16. Only
// ctrbench's own namespaces are ever addressed (the project's network rule). The pair disappears with
// the container's namespace. For a VM (microvm): a tap device, addressed the same way, whose guest end
// the guest sets on its own eth0; it disappears when the last descriptor of it (the VM's) closes.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "core/unique_fd.h"

namespace ctrbench {

struct VethLink {
    std::string host_if;       // e.g. "cb12345-7"
    std::string host_ip;       // the host end, e.g. 10.213.4.1
    std::string container_ip;  // eth0 in the container, e.g. 10.213.4.2
};

// Creates the link for the process `pid`'s network namespace (rtnetlink through libnl).
Result<VethLink> attach_veth(int pid);

// A tap device (IFF_TAP, no packet info, virtio-net headers) with the host end addressed and up;
// `link.container_ip` is the guest's. Not persistent: it goes when `fd` and every copy of it close.
struct TapLink {
    VethLink link;
    UniqueFd fd;
};
Result<TapLink> open_tap();

// Container::endpoint and Container::host_end for a container holding `link` (none: not NetworkMode::Own).
Result<std::string> link_endpoint(const std::optional<VethLink>& link, int port);
Result<std::string> link_host_end(const std::optional<VethLink>& link);

}  // namespace ctrbench
