#include "drivers/common/veth.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

namespace ctrbench {
namespace {

struct SockDeleter {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;

Result<Sock> route_socket() {
    Sock s(nl_socket_alloc());
    if (!s) return fail_msg("netlink: out of memory");
    if (int e = nl_connect(s.get(), NETLINK_ROUTE); e < 0)
        return fail_msg(std::string("netlink connect: ") + nl_geterror(e));
    return s;
}

Status nl_status(int e, const std::string& what) {
    if (e < 0) return fail_msg(what + ": " + nl_geterror(e));
    return {};
}

// `cidr` on the interface `ifname` of the calling thread's network namespace, and the link up.
Status configure(nl_sock* sk, const std::string& ifname, const std::string& cidr) {
    unsigned idx = if_nametoindex(ifname.c_str());
    if (idx == 0) return fail_sys("find interface " + ifname);
    if (!cidr.empty()) {
        nl_addr* local = nullptr;
        if (int e = nl_addr_parse(cidr.c_str(), AF_INET, &local); e < 0) return nl_status(e, "parse " + cidr);
        rtnl_addr* a = rtnl_addr_alloc();
        rtnl_addr_set_ifindex(a, static_cast<int>(idx));
        rtnl_addr_set_local(a, local);
        int e = rtnl_addr_add(sk, a, 0);
        rtnl_addr_put(a);
        nl_addr_put(local);
        if (auto s = nl_status(e, "add " + cidr + " to " + ifname); !s) return s;
    }
    rtnl_link* orig = rtnl_link_alloc();
    rtnl_link* up = rtnl_link_alloc();
    rtnl_link_set_ifindex(orig, static_cast<int>(idx));
    rtnl_link_set_flags(up, IFF_UP);
    int e = rtnl_link_change(sk, orig, up, 0);
    rtnl_link_put(orig);
    rtnl_link_put(up);
    return nl_status(e, "set " + ifname + " up");
}

void delete_link(nl_sock* sk, const std::string& ifname) {
    rtnl_link* l = rtnl_link_alloc();
    rtnl_link_set_name(l, ifname.c_str());
    (void)rtnl_link_delete(sk, l);
    rtnl_link_put(l);
}

// The next link's names and addresses: one /30 per link, 16384 of them in 10.213.0.0/16, spread by
// pid so that concurrent harnesses differ.
VethLink next_link() {
    static std::atomic<unsigned> next{0};
    unsigned n = next++;
    unsigned block = (static_cast<unsigned>(::getpid()) * 97 + n) % 16384;
    unsigned a = block / 64, b = (block % 64) * 4;
    VethLink l;
    l.host_if = "cb" + std::to_string(::getpid() % 1000000) + "-" + std::to_string(n % 10000);
    l.host_ip = "10.213." + std::to_string(a) + "." + std::to_string(b + 1);
    l.container_ip = "10.213." + std::to_string(a) + "." + std::to_string(b + 2);
    return l;
}

}  // namespace

Result<TapLink> open_tap() {
    TapLink t{next_link(), UniqueFd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC))};
    if (!t.fd) return fail_sys("open /dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", t.link.host_if.c_str());
    if (::ioctl(t.fd.get(), TUNSETIFF, &ifr) != 0) return fail_sys("create the tap device " + t.link.host_if);
    auto sk = route_socket();
    if (!sk) return fail(std::move(sk.error()));
    if (auto s = configure(sk->get(), t.link.host_if, t.link.host_ip + "/30"); !s) return fail(std::move(s.error()));
    return t;  // closing fd removes the device: nothing to undo on the way out
}

Result<VethLink> attach_veth(int pid) {
    VethLink l = next_link();
    auto sk = route_socket();
    if (!sk) return fail(std::move(sk.error()));
    if (int e = rtnl_link_veth_add(sk->get(), l.host_if.c_str(), "eth0", pid); e < 0)
        return fail(std::move(nl_status(e, "create the container's link " + l.host_if).error()));
    auto undo = [&](Error e) -> Result<VethLink> {
        delete_link(sk->get(), l.host_if);  // takes the peer with it
        return fail(std::move(e));
    };
    if (auto s = configure(sk->get(), l.host_if, l.host_ip + "/30"); !s) return undo(std::move(s.error()));

    // The container's end, from a thread that joins the container's network namespace (setns of a
    // network namespace is per thread): a netlink socket opened there stays bound to it.
    Status inside;
    std::thread t([&] {
        int fd = ::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            inside = fail_sys("open the network namespace of " + std::to_string(pid));
            return;
        }
        int rc = ::setns(fd, CLONE_NEWNET);
        ::close(fd);
        if (rc != 0) {
            inside = fail_sys("join the network namespace of " + std::to_string(pid));
            return;
        }
        auto csk = route_socket();
        if (!csk) {
            inside = fail(std::move(csk.error()));
            return;
        }
        if (inside = configure(csk->get(), "eth0", l.container_ip + "/30"); !inside) return;
        inside = configure(csk->get(), "lo", "");
    });
    t.join();
    if (!inside) return undo(std::move(inside.error()).wrap("configure the container's link"));
    return l;
}

Result<std::string> link_endpoint(const std::optional<VethLink>& link, int port) {
    if (!link) return fail_msg("the container has no link: create it with NetworkMode::Own");
    return link->container_ip + ":" + std::to_string(port);
}

Result<std::string> link_host_end(const std::optional<VethLink>& link) {
    if (!link) return fail_msg("the container has no link: create it with NetworkMode::Own");
    return link->host_ip;
}

}  // namespace ctrbench
