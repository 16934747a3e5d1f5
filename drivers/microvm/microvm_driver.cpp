#include "drivers/microvm/microvm_driver.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "core/process.h"
#include "core/unique_fd.h"
#include "drivers/common/capabilities.h"
#include "drivers/common/managed_engine.h"
#include "drivers/common/veth.h"

namespace ctrbench::microvm {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr std::string_view kReady = "\nCTRBENCH-READY\n";
constexpr std::string_view kFailed = "\nCTRBENCH-FAILED ";
constexpr std::string_view kExecFailed = "ctrbench: cannot run ";

fs::path kernel_path() {
    return fs::path(kMicrovmDir) / "vmlinux";
}

// The guest kernel's Debian package ("linux-image-6.1.0-…-amd64"), as the role wrote it; "" if none.
std::string kernel_version() {
    std::ifstream v(fs::path(kMicrovmDir) / "vmlinux.version");
    std::string version;
    std::getline(v, version);
    return version;
}

fs::path modules_dir() {
    return fs::path(kMicrovmDir) / "modules";
}

bool have_net_modules() {
    std::error_code ec;  // unreadable (not root): as missing
    for (const char* m : kNetModules)
        if (!fs::exists(modules_dir() / (std::string(m) + ".ko"), ec)) return false;
    return true;
}

Result<fs::path> image_cpio(const ContainerSpec& spec) {
    auto tag = image_tag(spec);  // "ctrbench/minimal:<hash>"
    if (!tag) return fail(std::move(tag.error()));
    return fs::path(kMicrovmDir) / "images" / (spec.image + "-" + tag->substr(tag->find(':') + 1) + ".cpio");
}

std::string last_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    auto nl = s.find_last_of('\n');
    s = nl == std::string::npos ? s : s.substr(nl + 1);
    std::string clean;
    for (char c : s)
        if (c >= 0x20 && c < 0x7f) clean += c;
    return clean;
}

// An uncompressed newc cpio (the kernel unpacks it fastest) of trees: each (source, target) puts
// the files under `source` at `target` ("" = the archive's root), with the directories leading there.
Status write_cpio(const fs::path& out, const std::vector<std::pair<fs::path, std::string>>& trees) {
    const fs::path tmp = out.string() + ".tmp-" + std::to_string(::getpid());
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    archive* a = archive_write_new();
    archive_write_set_format_cpio_newc(a);
    if (archive_write_open_filename(a, tmp.c_str()) != ARCHIVE_OK) {
        std::string why = archive_error_string(a) ? archive_error_string(a) : "?";
        archive_write_free(a);
        return fail_msg("write " + tmp.string() + ": " + why);
    }
    std::string failed;
    auto add = [&](const fs::path& file, const std::string& name) {
        struct stat st {};
        if (::lstat(file.c_str(), &st) != 0) return;
        archive_entry* e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_pathname(e, name.c_str());
        std::string target;
        if (S_ISLNK(st.st_mode)) {
            target = fs::read_symlink(file, ec).string();
            archive_entry_set_symlink(e, target.c_str());
        }
        if (!S_ISREG(st.st_mode)) archive_entry_set_size(e, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK) failed = name;
        if (S_ISREG(st.st_mode)) {
            std::ifstream in(file, std::ios::binary);
            char buf[1 << 16];
            while (in.read(buf, sizeof buf) || in.gcount() > 0)
                if (archive_write_data(a, buf, static_cast<size_t>(in.gcount())) < 0) failed = name;
        }
        archive_entry_free(e);
    };
    for (const auto& [source, target] : trees) {
        std::string prefix;
        for (const auto& part : fs::path(target).relative_path()) {  // the directories leading there
            prefix += (prefix.empty() ? "" : "/") + part.string();
            if (fs::path(prefix) == fs::path(target).relative_path() && !fs::is_directory(source, ec)) break;
            archive_entry* e = archive_entry_new();
            archive_entry_set_pathname(e, prefix.c_str());
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            archive_entry_set_size(e, 0);  // newc refuses an entry without one ("Size required")
            if (archive_write_header(a, e) != ARCHIVE_OK) failed = prefix;
            archive_entry_free(e);
        }
        const std::string base = fs::path(target).relative_path().string();
        if (!fs::is_directory(source, ec)) {
            add(source, base);
            continue;
        }
        for (auto it = fs::recursive_directory_iterator(source, fs::directory_options::none, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const auto rel = it->path().lexically_relative(source).string();  // not relative(): it follows links
            add(it->path(), base.empty() ? rel : base + "/" + rel);
        }
    }
    const bool closed = archive_write_close(a) == ARCHIVE_OK;
    archive_write_free(a);
    if (!failed.empty() || !closed) {
        fs::remove(tmp, ec);
        return fail_msg("write " + out.string() + ": cannot add " + (failed.empty() ? "the trailer" : failed));
    }
    fs::rename(tmp, out, ec);
    if (ec) return fail_msg("rename " + tmp.string() + ": " + ec.message());
    return {};
}

// A cpio of one bind mount's files, made once per source, target and the source's mtime.
Result<fs::path> mount_cpio(const BindMount& m) {
    std::error_code ec;
    const auto mtime = fs::last_write_time(m.source, ec).time_since_epoch().count();
    const auto key = std::hash<std::string>{}(m.source.string() + "|" + m.target + "|" + std::to_string(mtime));
    fs::path out = fs::path(kMicrovmDir) / "mounts" / (std::to_string(key) + ".cpio");
    if (fs::exists(out)) return out;
    if (auto s = write_cpio(out, {{m.source, m.target}}); !s) return fail(std::move(s.error()));
    return out;
}

// A cpio of the network link's modules at /lib/modules/ctrbench/<n>-<name>.ko, n their load order
// (the agent loads that directory's files in name order), made once per guest kernel.
Result<fs::path> net_modules_cpio() {
    fs::path out = fs::path(kMicrovmDir) / "mounts" / ("net-modules-" + kernel_version() + ".cpio");
    if (fs::exists(out)) return out;
    std::vector<std::pair<fs::path, std::string>> trees;
    int n = 0;
    for (const char* m : kNetModules)
        trees.emplace_back(modules_dir() / (std::string(m) + ".ko"),
                           "/lib/modules/ctrbench/" + std::to_string(n++) + "-" + m + ".ko");
    if (auto s = write_cpio(out, trees); !s) return fail(std::move(s.error()));
    return out;
}

class MicrovmContainer final : public Container {
public:
    MicrovmContainer(ContainerSpec spec, fs::path dir, std::vector<std::string> argv, std::optional<TapLink> tap)
        : spec_(std::move(spec)), dir_(std::move(dir)), argv_(std::move(argv)), tap_(std::move(tap)) {}
    ~MicrovmContainer() override {
        (void)stop();
        (void)clean();
    }

    Status start() override {
        const auto deadline = Clock::now() + spec_.timeout;
        // Everything the child needs is made before the fork: it only makes system calls.
        std::vector<char*> a;
        for (auto& s : argv_) a.push_back(s.data());
        a.push_back(nullptr);
        const std::string log_path = (dir_ / "qemu.log").string();
        const int tap = tap_ ? tap_->fd.get() : -1;
        pid_ = ::fork();
        if (pid_ < 0) return fail_sys("fork (qemu)");
        if (pid_ == 0) {
            ::setsid();
            int null = ::open("/dev/null", O_RDONLY);
            int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (null >= 0) ::dup2(null, 0);
            if (log >= 0) {
                ::dup2(log, 1);
                ::dup2(log, 2);
            }
            if (tap == kTapFd)
                ::fcntl(tap, F_SETFD, 0);
            else if (tap >= 0)
                ::dup2(tap, kTapFd);
            ::syscall(SYS_close_range, tap >= 0 ? kTapFd + 1U : 3U, ~0U, 0U);
            ::execv(a[0], a.data());
            ::_exit(127);
        }
        pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
        std::ofstream(dir_ / "qemu.pid") << pid_ << "\n";
        // qemu makes the socket as it starts: connect once it is there.
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const auto path = (dir_ / "agent.sock").string();
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        for (;;) {
            sock_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            if (::connect(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
            if (exited()) return fail_msg(boot_error("qemu exited"));
            if (Clock::now() > deadline) return fail_msg(boot_error("qemu made no agent socket in time"));
            std::this_thread::sleep_for(5ms);
        }
        started_ = true;
        for (;;) {
            if (auto at = buffer_.find(kFailed);
                at != std::string::npos && buffer_.find('\n', at + 1) != std::string::npos) {
                const auto why = buffer_.substr(at + kFailed.size(), buffer_.find('\n', at + 1) - at - kFailed.size());
                kill_vm();
                return fail_msg("microvm " + spec_.name + ": " + why);
            }
            if (auto at = buffer_.find(kReady); at != std::string::npos) {
                buffer_.erase(0, at + kReady.size());
                return {};
            }
            auto r = fill(deadline);
            if (!r)
                return fail_msg(boot_error(r.error().err() == ETIMEDOUT
                                               ? "the guest did not become ready within " +
                                                     std::to_string(spec_.timeout.count()) + " ms"
                                               : "the guest went away before it was ready"));
        }
    }

    Result<ExecResult> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
        if (!started_ || stopped_) return fail_msg("microvm exec " + spec_.name + ": the guest is not running");
        std::string payload = std::to_string(timeout.count()) + '\0';
        for (const auto& a : argv) payload += a + '\0';
        std::string frame = "E " + std::to_string(payload.size()) + "\n" + payload;
        if (auto s = send(frame); !s) return fail(std::move(s.error()));
        // The agent enforces the timeout; the slack covers a slow guest's own reply.
        const auto deadline = Clock::now() + timeout + 15s;
        std::string head;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                head = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                break;
            }
            if (auto r = fill(deadline); !r) return fail(std::move(r.error()).wrap("microvm exec " + spec_.name));
        }
        int code = -1, sig = 0, timed_out = 0;
        long ooms = 0;
        std::size_t out_n = 0, err_n = 0;
        if (std::sscanf(head.c_str(), "R %d %d %d %ld %zu %zu", &code, &sig, &timed_out, &ooms, &out_n, &err_n) != 6)
            return fail_msg("microvm exec " + spec_.name + ": the agent said '" + last_line(head) + "'");
        while (buffer_.size() < out_n + err_n)
            if (auto r = fill(deadline); !r) return fail(std::move(r.error()).wrap("microvm exec " + spec_.name));
        ExecResult e;
        e.exit_code = code;
        e.signal = sig;
        e.timed_out = timed_out != 0;
        e.oom_killed = ooms > 0;
        e.out = buffer_.substr(0, std::min(out_n, ExecResult::kMaxOutput));
        e.err = buffer_.substr(out_n, std::min(err_n, ExecResult::kMaxOutput));
        buffer_.erase(0, out_n + err_n);
        if (e.exit_code == 127 && e.err.starts_with(kExecFailed))
            return fail_msg("microvm exec " + spec_.name + ": cannot run " +
                            e.err.substr(kExecFailed.size(), e.err.find('\n') - kExecFailed.size()));
        return e;
    }

    Result<std::string> endpoint(int port) override { return link_endpoint(link(), port); }
    Result<std::string> host_end() override { return link_host_end(link()); }

    Status stop() override {
        if (pid_ <= 0 || stopped_) return {};
        if (sock_.get() >= 0) (void)send("P\n");
        const auto deadline = Clock::now() + 10s;
        while (!exited() && Clock::now() < deadline) {
            pollfd p{pidfd_.get(), POLLIN, 0};
            ::poll(&p, 1, 50);
        }
        if (!exited()) ::kill(pid_, SIGKILL);
        reap();
        stopped_ = true;
        return {};
    }

    Status clean() override {
        if (cleaned_) return {};
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            reap();
        }
        sock_.reset();
        if (tap_) tap_->fd.reset();  // qemu's copy went with qemu: the tap device goes
        std::error_code ec;
        fs::remove_all(dir_, ec);
        if (ec) return fail_msg("remove " + dir_.string() + ": " + ec.message());
        cleaned_ = true;
        return {};
    }

private:
    std::optional<VethLink> link() const { return tap_ ? std::optional<VethLink>(tap_->link) : std::nullopt; }
    bool exited() {
        if (reaped_) return true;
        pollfd p{pidfd_.get(), POLLIN, 0};
        return pidfd_.get() >= 0 && ::poll(&p, 1, 0) == 1;
    }
    void kill_vm() {
        if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
        reap();
        stopped_ = true;
    }
    void reap() {
        if (reaped_ || pid_ <= 0) return;
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
    }
    Status send(const std::string& data) {
        for (std::size_t at = 0; at < data.size();) {
            ssize_t n = ::send(sock_.get(), data.data() + at, data.size() - at, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail_sys("microvm " + spec_.name + ": write to the agent");
            at += static_cast<std::size_t>(n);
        }
        return {};
    }
    // Reads what the guest sent into buffer_, waiting at most until `deadline`.
    Status fill(Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return fail(Error::sys(ETIMEDOUT, "microvm " + spec_.name + ": waiting for the agent"));
            pollfd p{sock_.get(), POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) continue;
            char buf[65536];
            ssize_t n = ::recv(sock_.get(), buf, sizeof buf, 0);
            if (n > 0) {
                buffer_.append(buf, static_cast<std::size_t>(n));
                return {};
            }
            if (n < 0 && errno == EINTR) continue;
            return fail_msg("microvm " + spec_.name + ": the guest closed its serial port");
        }
    }
    // One line: why the guest did not come up, with the last thing qemu or the guest said.
    std::string boot_error(const std::string& what) {
        std::ifstream in(dir_ / "qemu.log");
        std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string said = last_line(log);
        if (said.empty()) said = last_line(buffer_);
        kill_vm();  // a guest that is not ready would not hear a power-off
        return "microvm " + spec_.name + ": " + what + (said.empty() ? "" : " (" + said + ")");
    }

    ContainerSpec spec_;
    fs::path dir_;
    std::vector<std::string> argv_;
    std::optional<TapLink> tap_;
    pid_t pid_ = -1;
    UniqueFd pidfd_, sock_;
    std::string buffer_;
    bool started_ = false, stopped_ = false, cleaned_ = false, reaped_ = false;
};

}  // namespace

MicrovmDriver::MicrovmDriver()
    : qemu_(find_program("qemu-system-x86_64")),
      accel_(choose_accel(fs::exists("/dev/kvm"), fs::exists("/sys/module/kvm_pvm"))) {}

std::string MicrovmDriver::choose_accel(bool dev_kvm, bool pvm) {
    return dev_kvm && !pvm ? "kvm" : "tcg";
}

std::string MicrovmDriver::description() const {
    return "QEMU microvm (" + accel_ + "), Debian's kernel, the image as an initramfs, ctrbench-agent as init";
}

Capabilities MicrovmDriver::capabilities() const {
    Capabilities c;
    c.vm = true;
    c.host_sees_oom = false;  // the guest's kernel kills; the agent reports it
    // The kernel unpacks the initramfs from the guest's RAM into its RAM: the 400 MB service image left a
    // 1 GiB guest without its /bin (the unpacking ran out of room); the 163 MB full image boots.
    c.max_image_bytes = 256ULL << 20;
    c.max_image_why = "the guest holds its image twice in RAM while its kernel unpacks the initramfs";
    c.own_network = have_net_modules();
    if (!c.own_network)
        c.no_network_why = "the guest kernel's network modules are missing from " + modules_dir().string() +
                           " (ansible-playbook playbooks/microvm.yml)";
    return c;
}

std::string MicrovmDriver::kernel_cmdline(const ContainerSpec& spec, const std::string& accel, const std::string& net) {
    // Kernel messages stay off the serial port the agent speaks on (loglevel=0). Under TCG on a busy
    // host the kernel's TSC calibration against the PIT fails and the boot then hangs (2 of 4 boots
    // seen here): the early TSC rate and the delay loop are given instead.
    std::string c = "console=ttyS0 loglevel=0 no_timer_check";
    if (accel == "tcg") c += " tsc_early_khz=2000000 lpj=4000000";
    c += " rdinit=/usr/bin/ctrbench-agent";
    if (spec.limits.memory_bytes) c += " CTRBENCH_MEMORY=" + std::to_string(spec.limits.memory_bytes);
    if (spec.limits.pids) c += " CTRBENCH_PIDS=" + std::to_string(spec.limits.pids);
    if (spec.limits.cpus > 0)
        c += " CTRBENCH_CPU_QUOTA=" + std::to_string(static_cast<long>(spec.limits.cpus * 100000));
    c += " CTRBENCH_HOSTNAME=" + (spec.hostname.empty() ? spec.name : spec.hostname);
    c += " CTRBENCH_WORKDIR=" + spec.workdir;
    if (auto caps = capability_mask(spec.add_caps)) {
        char mask[32];
        std::snprintf(mask, sizeof mask, "%#llx", static_cast<unsigned long long>(*caps));
        c += std::string(" CTRBENCH_CAPS=") + mask;
    }
    if (!net.empty()) c += " CTRBENCH_NET=" + net;
    for (const auto& e : spec.env) c += " " + e;
    c += " -- guest-init";
    for (const auto& a : spec.init) c += " " + a;  // the container's first process, run by the agent
    return c;
}

std::vector<std::string> MicrovmDriver::qemu_args(const ContainerSpec& spec, const std::string& accel,
                                                  const fs::path& kernel, const fs::path& initrd,
                                                  const fs::path& socket, const std::string& net) {
    const std::uint64_t mem = (spec.limits.memory_bytes ? spec.limits.memory_bytes : 1ULL << 30) + kGuestOverhead;
    std::vector<std::string> args = {"-M",
                                     "microvm,isa-serial=on,rtc=on,pit=on,pic=on,x-option-roms=off",
                                     "-accel",
                                     accel,
                                     "-m",
                                     std::to_string(mem >> 20) + "M",
                                     "-smp",
                                     "1",
                                     "-nodefaults",
                                     "-no-user-config",
                                     "-display",
                                     "none",
                                     "-no-reboot",
                                     "-kernel",
                                     kernel.string(),
                                     "-initrd",
                                     initrd.string(),
                                     "-append",
                                     kernel_cmdline(spec, accel, net),
                                     "-chardev",
                                     "socket,id=agent,path=" + socket.string() + ",server=on,wait=off",
                                     "-serial",
                                     "chardev:agent"};
    if (!net.empty()) {
        args.insert(args.end(), {"-netdev", "tap,id=net0,fd=" + std::to_string(kTapFd), "-device",
                                 "virtio-net-device,netdev=net0"});
    }
    return args;
}

Probe MicrovmDriver::probe() {
    Probe p;
    p.runtime = "qemu";
    p.storage = "initramfs";
    p.versions["accel"] = accel_;
    if (qemu_.empty()) {
        p.reason = "qemu-system-x86_64 is not installed (ansible-playbook playbooks/microvm.yml)";
        return p;
    }
    if (std::error_code ec; !fs::exists(kernel_path(), ec)) {
        p.reason = ec ? "cannot look at the guest kernel " + kernel_path().string() + ": " + ec.message()
                      : "no guest kernel at " + kernel_path().string() + " (ansible-playbook playbooks/microvm.yml)";
        return p;
    }
    if (auto v = run_process({qemu_, "--version"}, 10s); v && v->ok())
        p.versions["qemu"] = v->out.substr(0, v->out.find('\n'));
    if (auto kv = kernel_version(); !kv.empty()) p.versions["guest kernel"] = kv;
    p.available = true;
    return p;
}

Status MicrovmDriver::prepare(const ContainerSpec& spec) {
    auto cpio = image_cpio(spec);
    if (!cpio) return fail(std::move(cpio.error()));
    if (fs::exists(*cpio)) return {};
    if (!fs::exists(spec.rootfs / "usr/bin/ctrbench-agent"))
        return fail_msg("microvm: the image " + spec.rootfs.string() + " has no /usr/bin/ctrbench-agent");
    if (auto s = write_cpio(*cpio, {{spec.rootfs, ""}}); !s) return s;
    record_build("microvm", cpio->stem().string(), spec);
    std::error_code ec;  // the initramfs of the image's earlier builds, but not one another checkout still uses
    for (const auto& e : fs::directory_iterator(cpio->parent_path(), ec)) {
        const auto ext = e.path().extension().string();
        if (ext.starts_with(".tmp-")) {  // one being written (write_cpio): only a dead writer's goes
            const int writer = std::atoi(ext.c_str() + 5);
            if (writer > 0 && ::kill(writer, 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
            continue;
        }
        const auto build = e.path().stem().string();
        if (ext == ".cpio" && e.path() != *cpio && build.starts_with(spec.image + "-") &&
            !build_in_use("microvm", build) && fs::remove(e.path(), ec))
            forget_build("microvm", build);
    }
    return {};
}

std::vector<std::string> MicrovmDriver::sweep_dead() {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kRunDir, ec)) {
        const auto name = e.path().filename().string();
        if (!owner_gone(name)) continue;
        std::ifstream in(e.path() / "qemu.pid");
        pid_t pid = 0;
        if (in >> pid && pid > 0) {
            std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
            std::string c((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
            if (c.find(e.path().string()) != std::string::npos) ::kill(pid, SIGKILL);
        }
        std::error_code rec;
        fs::remove_all(e.path(), rec);
        removed.push_back("microvm " + name);
    }
    return removed;
}

Result<std::unique_ptr<Container>> MicrovmDriver::create(const ContainerSpec& spec) {
    if (auto s = validate(spec); !s) return fail(std::move(s.error()));
    if (spec.network == NetworkMode::Host)
        return fail_msg("microvm: a guest cannot share the host's network (NetworkMode::Host)");
    if (spec.network == NetworkMode::Own && !have_net_modules())
        return fail_msg("microvm: " + capabilities().no_network_why);
    if (qemu_.empty() || !fs::exists(kernel_path()))
        return fail_msg("microvm: qemu or the guest kernel is missing (ansible-playbook playbooks/microvm.yml)");
    for (const auto& a : spec.init)
        if (a.find_first_of(" \t\n") != std::string::npos)
            return fail_msg("microvm: an argument of the first process has white space: " + a);
    auto cpio = image_cpio(spec);
    if (!cpio) return fail(std::move(cpio.error()));
    if (!fs::exists(*cpio))
        return fail_msg("microvm: the image " + spec.image + " has no initramfs yet (prepare it: " + cpio->string() +
                        ")");
    std::call_once(swept_, [&] { (void)sweep_dead(); });
    const fs::path dir = fs::path(kRunDir) / spec.name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail_msg("mkdir " + dir.string() + ": " + ec.message());
    fs::path initrd = *cpio;
    if (!spec.mounts.empty() || spec.network == NetworkMode::Own) {
        // The kernel unpacks concatenated cpio archives in order: the image's, then each mount's,
        // then the network's modules.
        initrd = dir / "initrd.cpio";
        std::ofstream out(initrd, std::ios::binary);
        std::vector<fs::path> parts = {*cpio};
        if (spec.network == NetworkMode::Own) {
            auto part = net_modules_cpio();
            if (!part) {
                fs::remove_all(dir, ec);
                return fail(std::move(part.error()));
            }
            parts.push_back(*part);
        }
        for (const auto& m : spec.mounts) {
            auto part = mount_cpio(m);
            if (!part) {
                fs::remove_all(dir, ec);
                return fail(std::move(part.error()));
            }
            parts.push_back(*part);
        }
        for (const auto& part : parts) {
            std::ifstream in(part, std::ios::binary);
            out << in.rdbuf();
        }
        if (!out.flush()) {
            fs::remove_all(dir, ec);
            return fail_msg("write " + initrd.string());
        }
    }
    std::optional<TapLink> tap;
    if (spec.network == NetworkMode::Own) {
        auto t = open_tap();
        if (!t) {
            fs::remove_all(dir, ec);
            return fail(std::move(t.error()).wrap("microvm " + spec.name));
        }
        tap = std::move(*t);
    }
    auto args =
        qemu_args(spec, accel_, kernel_path(), initrd, dir / "agent.sock", tap ? tap->link.container_ip + "/30" : "");
    args.insert(args.begin(), qemu_);
    return std::unique_ptr<Container>(new MicrovmContainer(spec, dir, std::move(args), std::move(tap)));
}

}  // namespace ctrbench::microvm
