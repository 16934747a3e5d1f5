// The docker driver against a stand-in dockerd: a unix socket that answers /version and /info as
// dockerd 20.10 does, with or without --experimental (the real one is started with it; a second,
// differently configured daemon is more than a unit test needs).
#include "drivers/docker/docker_driver.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "workloads/checkpoint.h"

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {

// Answers every request on `path` until destroyed: /version, and /info saying `experimental`.
class FakeDockerd {
public:
    FakeDockerd(const fs::path& path, bool experimental) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.string().copy(addr.sun_path, sizeof(addr.sun_path) - 1);
        fs::remove(path);
        ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && ::listen(fd_, 8) == 0;
        const nlohmann::json info = {{"Driver", "overlay2"},
                                     {"CgroupDriver", "cgroupfs"},
                                     {"Runtimes", {{"runc", {{"path", "runc"}}}}},
                                     {"ExperimentalBuild", experimental},
                                     {"DockerRootDir", "/var/lib/docker"}};
        thread_ = std::thread([this, info] {
            for (;;) {
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0 || stop_) {
                    if (c >= 0) ::close(c);
                    return;
                }
                std::string req;
                char buf[4096];
                for (ssize_t n; req.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;)
                    req.append(buf, static_cast<size_t>(n));
                const std::string body = req.find(" /info ") != std::string::npos
                                             ? info.dump()
                                             : nlohmann::json{{"Version", "20.10.24"}, {"ApiVersion", "1.41"}}.dump();
                const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
                (void)!::write(c, reply.data(), reply.size());
                ::close(c);
            }
        });
    }
    ~FakeDockerd() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);  // wakes accept
        thread_.join();
        ::close(fd_);
        fs::remove(path_);
    }
    bool ok() const { return ok_; }

private:
    fs::path path_;
    int fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

fs::path socket_path(const std::string& what) {
    return fs::temp_directory_path() / ("ctrbench-unit-" + std::to_string(::getpid()) + "-" + what + ".sock");
}

}  // namespace

// Without --experimental, dockerd has no checkpoint: the probe finds it, the capabilities say so, and
// the checkpoint workload is skipped with that reason (one line), not run into an error.
TEST(DockerDriver, DaemonWithoutExperimentalCannotCheckpoint) {
    const auto sock = socket_path("plain");
    FakeDockerd dockerd(sock, false);
    ASSERT_TRUE(dockerd.ok());
    docker::DockerDriver d("runc", sock.string());
    EXPECT_TRUE(d.capabilities().engine_checkpoint) << "before a probe, runc under docker is taken to checkpoint";
    auto p = d.probe();
    ASSERT_TRUE(p.available) << p.reason;
    const auto caps = d.capabilities();
    EXPECT_FALSE(caps.engine_checkpoint);
    EXPECT_NE(caps.checkpoint_why.find("without --experimental"), std::string::npos) << caps.checkpoint_why;
    const auto why = CheckpointWorkload(false).unsupported(caps, "/nonexistent");
    EXPECT_NE(why.find("without --experimental"), std::string::npos) << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
}

TEST(DockerDriver, ExperimentalDaemonCheckpointsWithRuncOnly) {
    const auto sock = socket_path("experimental");
    FakeDockerd dockerd(sock, true);
    ASSERT_TRUE(dockerd.ok());
    docker::DockerDriver runc("runc", sock.string());
    ASSERT_TRUE(runc.probe().available);
    EXPECT_TRUE(runc.capabilities().engine_checkpoint);
    docker::DockerDriver crun("crun", sock.string());
    (void)crun.probe();  // crun is not among the stand-in's runtimes: the capability does not depend on it
    EXPECT_FALSE(crun.capabilities().engine_checkpoint);
    EXPECT_NE(crun.capabilities().checkpoint_why.find("only with runc"), std::string::npos);
}
