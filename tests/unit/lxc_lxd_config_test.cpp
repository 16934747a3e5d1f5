// The lxc and lxd drivers' spec -> config mappings (LxcDriver::config_items, LxdDriver::create_body),
// without liblxc or LXD running anything: the values the C API and the REST API are given.
#include <gtest/gtest.h>

#include <algorithm>

#include "drivers/lxc/lxc_driver.h"
#include "drivers/lxd/lxd_driver.h"
#include "drivers/microvm/microvm_driver.h"

using namespace ctrbench;

namespace {
using Items = std::vector<std::pair<std::string, std::string>>;

ContainerSpec spec() {
    ContainerSpec s;
    s.name = "ctrbench-1-x";
    s.rootfs = "/images/minimal/rootfs";
    return s;
}
std::vector<std::string> values(const Items& items, const std::string& key) {
    std::vector<std::string> v;
    for (const auto& [k, val] : items)
        if (k == key) v.push_back(val);
    return v;
}
std::string value(const Items& items, const std::string& key) {
    auto v = values(items, key);
    return v.size() == 1 ? v[0] : "<" + std::to_string(v.size()) + " values>";
}
}  // namespace

TEST(LxcConfig, OverlayOverTheImageWithItsUpperLayerInTheContainersDirectory) {
    auto items = lxc::LxcDriver::config_items(spec(), false);
    ASSERT_TRUE(items) << items.error().message();
    EXPECT_EQ(value(*items, "lxc.rootfs.path"),
              "overlay:/images/minimal/rootfs:/var/lib/ctrbench/lxc/ctrbench-1-x/overlay/delta");
    EXPECT_EQ(value(*items, "lxc.uts.name"), "ctrbench-1-x");
    EXPECT_EQ(value(*items, "lxc.net.0.type"), "empty");  // loopback only
    EXPECT_EQ(value(*items, "lxc.seccomp.profile"), "/usr/share/lxc/config/common.seccomp");
    EXPECT_TRUE(values(*items, "lxc.rootfs.options").empty());
}

TEST(LxcConfig, TheCommonLimitsOnV1AndOnV2) {
    auto v1 = lxc::LxcDriver::config_items(spec(), false);
    ASSERT_TRUE(v1);
    EXPECT_EQ(value(*v1, "lxc.cgroup.memory.limit_in_bytes"), "1073741824");
    EXPECT_EQ(value(*v1, "lxc.cgroup.pids.max"), "1024");
    EXPECT_EQ(value(*v1, "lxc.cgroup.cpu.cfs_quota_us"), "100000");
    EXPECT_EQ(value(*v1, "lxc.cgroup.cpu.cfs_period_us"), "100000");
    EXPECT_EQ(value(*v1, "lxc.cgroup.devices.deny"), "a");
    auto v2 = lxc::LxcDriver::config_items(spec(), true);
    ASSERT_TRUE(v2);
    EXPECT_EQ(value(*v2, "lxc.cgroup2.memory.max"), "1073741824");
    EXPECT_EQ(value(*v2, "lxc.cgroup2.memory.swap.max"), "0");
    EXPECT_EQ(value(*v2, "lxc.cgroup2.cpu.max"), "100000 100000");
    EXPECT_EQ(value(*v2, "lxc.cgroup2.pids.max"), "1024");
    for (const auto& [k, v] : *v2) EXPECT_FALSE(k.starts_with("lxc.cgroup.")) << k;
}

TEST(LxcConfig, CapabilitiesAreTheCommonSetWithoutNetRawUnlessAdded) {
    auto items = lxc::LxcDriver::config_items(spec(), false);
    ASSERT_TRUE(items);
    auto keep = value(*items, "lxc.cap.keep");
    EXPECT_NE(keep.find("chown"), std::string::npos) << keep;
    EXPECT_EQ(keep.find("net_raw"), std::string::npos) << keep;
    EXPECT_EQ(keep.find("sys_admin"), std::string::npos) << keep;
    EXPECT_EQ(keep.find("cap_"), std::string::npos) << "lxc spells them without the prefix: " << keep;
    auto s = spec();
    s.add_caps = {"NET_RAW"};
    items = lxc::LxcDriver::config_items(s, false);
    ASSERT_TRUE(items);
    EXPECT_NE(value(*items, "lxc.cap.keep").find("net_raw"), std::string::npos);
    s.add_caps = {"NO_SUCH_CAP"};
    EXPECT_FALSE(lxc::LxcDriver::config_items(s, false));
}

TEST(LxcConfig, ReadOnlyRootfsMountsAndChoices) {
    auto s = spec();
    s.read_only_rootfs = true;
    s.seccomp = false;
    s.network = NetworkMode::Host;
    s.mounts = {{"/host/data", "/data", true}};
    auto items = lxc::LxcDriver::config_items(s, false);
    ASSERT_TRUE(items);
    EXPECT_EQ(value(*items, "lxc.rootfs.options"), "ro");
    auto entries = values(*items, "lxc.mount.entry");
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(entries[0], "tmpfs tmp tmpfs rw,nosuid,nodev,size=268435456 0 0");
    EXPECT_EQ(entries[1], "/host/data data none bind,ro,create=file 0 0");
    EXPECT_TRUE(values(*items, "lxc.seccomp.profile").empty());
    EXPECT_EQ(value(*items, "lxc.net.0.type"), "none");  // the host's network, on request only
}

// The lxd driver's POST /1.0/instances body (LxdDriver::create_body): the same spec, LXD's keys.
TEST(LxdConfig, InstanceBodyCarriesTheSpec) {
    auto s = spec();
    s.mounts = {{"/host/data", "/data", true}};
    auto b = lxd::LxdDriver::create_body(s, "ctrbench-minimal-0123456789abcdef", "ctrbench-dir");
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ((*b)["source"]["alias"], "ctrbench-minimal-0123456789abcdef");
    EXPECT_TRUE((*b)["profiles"].empty());  // no profile: no NIC, nothing of the host's defaults
    EXPECT_EQ((*b)["devices"]["root"]["pool"], "ctrbench-dir");
    EXPECT_EQ((*b)["devices"]["mount0"]["source"], "/host/data");
    EXPECT_EQ((*b)["devices"]["mount0"]["readonly"], "true");
    const auto& c = (*b)["config"];
    EXPECT_EQ(c["limits.memory"], "1073741824");
    EXPECT_EQ(c["limits.memory.swap"], "false");
    EXPECT_EQ(c["limits.processes"], "1024");
    EXPECT_EQ(c["limits.cpu.allowance"], "100ms/100ms");
    const std::string raw = c["raw.lxc"];
    EXPECT_NE(raw.find("lxc.init.cmd = /bin/sleep infinity\n"), std::string::npos) << raw;
    EXPECT_NE(raw.find(" net_raw"), std::string::npos) << "NET_RAW dropped: " << raw;
    EXPECT_NE(raw.find(" sys_admin"), std::string::npos) << raw;
    EXPECT_EQ(raw.find(" chown"), std::string::npos) << "the common set is kept: " << raw;
    s.add_caps = {"NET_RAW"};
    b = lxd::LxdDriver::create_body(s, "a", "p");
    ASSERT_TRUE(b);
    EXPECT_EQ((*b)["config"]["raw.lxc"].get<std::string>().find(" net_raw"), std::string::npos);
}

TEST(LxdConfig, WhatLxdCannotDoIsOneLine) {
    auto s = spec();
    s.read_only_rootfs = true;
    EXPECT_FALSE(lxd::LxdDriver::create_body(s, "a", "p"));
    s = spec();
    s.network = NetworkMode::Host;
    EXPECT_FALSE(lxd::LxdDriver::create_body(s, "a", "p"));
    s = spec();
    s.init = {"/bin/sh", "-c", "sleep 1"};
    auto b = lxd::LxdDriver::create_body(s, "a", "p");
    ASSERT_FALSE(b);
    EXPECT_NE(b.error().message().find("white space"), std::string::npos);
}

// The microvm driver's QEMU command line: the spec's limits reach the guest's agent as kernel
// parameters, the VM gets the container's memory plus the guest's own overhead, 1 vCPU.
TEST(MicrovmConfig, KernelCommandLineAndQemuArguments) {
    auto s = spec();
    auto cmd = microvm::MicrovmDriver::kernel_cmdline(s, "tcg");
    EXPECT_NE(cmd.find("rdinit=/usr/bin/ctrbench-agent"), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(" CTRBENCH_MEMORY=1073741824 "), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(" CTRBENCH_PIDS=1024 "), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(" CTRBENCH_CPU_QUOTA=100000 "), std::string::npos) << cmd;
    EXPECT_NE(cmd.find(" tsc_early_khz="), std::string::npos) << "TCG's boot needs the TSC rate given: " << cmd;
    EXPECT_TRUE(cmd.ends_with(" -- guest-init /bin/sleep infinity")) << cmd;
    EXPECT_EQ(microvm::MicrovmDriver::kernel_cmdline(s, "kvm").find("tsc_early_khz"), std::string::npos);
    auto args = microvm::MicrovmDriver::qemu_args(s, "tcg", "/k/vmlinux", "/i/image.cpio", "/r/agent.sock");
    auto at = [&](const std::string& flag) {
        for (std::size_t i = 0; i + 1 < args.size(); ++i)
            if (args[i] == flag) return args[i + 1];
        return std::string("<none>");
    };
    EXPECT_EQ(at("-accel"), "tcg");
    EXPECT_EQ(at("-m"), "1280M");  // 1 GiB for the container, 256 MiB for the guest's kernel and initramfs
    EXPECT_EQ(at("-smp"), "1");
    EXPECT_EQ(at("-kernel"), "/k/vmlinux");
    EXPECT_EQ(at("-initrd"), "/i/image.cpio");
    EXPECT_EQ(at("-chardev"), "socket,id=agent,path=/r/agent.sock,server=on,wait=off");
    EXPECT_EQ(at("-netdev"), "<none>") << "no link unless one is asked for";
    // The container's processes keep the common capability set: Docker's without NET_RAW (bit 13),
    // plus what the spec adds.
    EXPECT_NE(cmd.find(" CTRBENCH_CAPS=0xa80405fb "), std::string::npos) << cmd;
    s.add_caps = {"NET_RAW"};
    EXPECT_NE(microvm::MicrovmDriver::kernel_cmdline(s, "tcg").find(" CTRBENCH_CAPS=0xa80425fb "), std::string::npos);
    // A link: the tap device at descriptor 3 as a virtio-net device, the guest's address for its eth0.
    args = microvm::MicrovmDriver::qemu_args(s, "tcg", "/k/vmlinux", "/i/image.cpio", "/r/agent.sock", "10.213.0.2/30");
    EXPECT_EQ(at("-netdev"), "tap,id=net0,fd=3");
    EXPECT_EQ(at("-device"), "virtio-net-device,netdev=net0");
    EXPECT_NE(at("-append").find(" CTRBENCH_NET=10.213.0.2/30 "), std::string::npos) << at("-append");
    EXPECT_EQ(microvm::MicrovmDriver::choose_accel(false, false), "tcg");
    EXPECT_EQ(microvm::MicrovmDriver::choose_accel(true, true), "tcg");  // a PVM backend boots no ordinary guest
    EXPECT_EQ(microvm::MicrovmDriver::choose_accel(true, false), "kvm");
}
