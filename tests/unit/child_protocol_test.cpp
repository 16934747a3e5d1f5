// The lean container's parent/child sequence (drivers/lean/child_protocol.h) against a fake child:
// a forked process that says what a real one would, or fails where a real one could.
#include "drivers/lean/child_protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

using namespace ctrbench;
using namespace ctrbench::lean;

namespace {

struct Pipes {
    int status[2], go[2];
    Pipes() {
        EXPECT_EQ(::pipe2(status, O_CLOEXEC), 0);
        EXPECT_EQ(::pipe2(go, O_CLOEXEC), 0);
    }
    ~Pipes() {
        for (int fd : {status[0], status[1], go[0], go[1]})
            if (fd >= 0) ::close(fd);
    }
};

// Forks `child(status_w, go_r)`; the parent keeps status_r and go_w.
pid_t fake_child(Pipes& p, const std::function<void(int, int)>& child) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p.status[0]);
        ::close(p.go[1]);
        child(p.status[1], p.go[0]);
        ::_exit(0);
    }
    ::close(p.status[1]);
    ::close(p.go[0]);
    p.status[1] = p.go[0] = -1;
    return pid;
}

int reap(pid_t pid) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace

TEST(ChildProtocol, ReadyThenGoThenExecIsTheWholeSequence) {
    Pipes p;
    pid_t pid = fake_child(p, [](int status_w, int go_r) {
        if (!send_ready(status_w)) ::_exit(1);
        if (!await_go(go_r)) ::_exit(2);
        ::execl("/bin/true", "true", nullptr);  // the status pipe closes on exec
        ::_exit(3);
    });
    ASSERT_TRUE(await_ready(p.status[0], 5000));
    ASSERT_TRUE(send_go(p.go[1]));
    EXPECT_TRUE(await_exec(p.status[0]));
    EXPECT_EQ(reap(pid), 0);
}

TEST(ChildProtocol, ASetupFailureNamesItsStepAndErrno) {
    Pipes p;
    pid_t pid = fake_child(p, [](int status_w, int) {
        send_error(status_w, EPERM, "mount proc on /proc");
        ::_exit(127);
    });
    auto s = await_ready(p.status[0], 5000);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().err(), EPERM);
    EXPECT_NE(s.error().message().find("mount proc on /proc"), std::string::npos) << s.error().message();
    EXPECT_EQ(reap(pid), 127);
}

TEST(ChildProtocol, AChildThatDiesWithoutAWordIsSaidSo) {
    Pipes p;
    pid_t pid = fake_child(p, [](int, int) { ::_exit(9); });
    auto s = await_ready(p.status[0], 5000);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("without a word"), std::string::npos) << s.error().message();
    reap(pid);
}

TEST(ChildProtocol, ASilentChildTimesOut) {
    Pipes p;
    pid_t pid = fake_child(p, [](int, int go_r) { (void)await_go(go_r); });
    auto s = await_ready(p.status[0], 50);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().err(), ETIMEDOUT);
    ::close(p.go[1]);  // the parent gives up: the child's await_go sees EOF and leaves
    p.go[1] = -1;
    EXPECT_EQ(reap(pid), 0);
}

TEST(ChildProtocol, AnExecFailureComesBackAfterGo) {
    Pipes p;
    pid_t pid = fake_child(p, [](int status_w, int go_r) {
        if (!send_ready(status_w) || !await_go(go_r)) ::_exit(1);
        ::execl("/no/such/binary", "x", nullptr);
        send_error(status_w, errno, "execve /no/such/binary");
        ::_exit(127);
    });
    ASSERT_TRUE(await_ready(p.status[0], 5000));
    ASSERT_TRUE(send_go(p.go[1]));
    auto s = await_exec(p.status[0]);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().err(), ENOENT);
    EXPECT_NE(s.error().message().find("/no/such/binary"), std::string::npos);
    EXPECT_EQ(reap(pid), 127);
}

TEST(ChildProtocol, WithoutGoTheChildDoesNotExec) {
    Pipes p;
    pid_t pid = fake_child(p, [](int status_w, int go_r) {
        if (!send_ready(status_w)) ::_exit(1);
        ::_exit(await_go(go_r) ? 0 : 126);  // 126: the parent gave up, as the real child does
    });
    ASSERT_TRUE(await_ready(p.status[0], 5000));
    ::close(p.go[1]);  // a create whose container is dropped before start
    p.go[1] = -1;
    EXPECT_EQ(reap(pid), 126);
}
