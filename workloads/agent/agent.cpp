// ctrbench-agent: the one static helper that runs inside every image, for workloads and tests alike
// (crun's tests/init.c idea). Kept to libc so the static binary stays small.
//   ctrbench-agent memhog MB        allocate and touch MB MiB, print "allocated MB MiB"
//   ctrbench-agent forkbomb N       fork up to N sleeping children, print how many succeeded
//   ctrbench-agent hang             sleep until killed
//   ctrbench-agent ids              print pid, ppid, hostname, uid and the capability sets
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int memhog(long mb) {
    const long page = 4096;
    for (long i = 0; i < mb; ++i) {
        char* p = static_cast<char*>(std::malloc(1 << 20));
        if (!p) return std::printf("malloc failed after %ld MiB\n", i), 1;
        for (long off = 0; off < (1 << 20); off += page) p[off] = 1;  // touch every page: really resident
    }
    std::printf("allocated %ld MiB\n", mb);
    return 0;
}

int forkbomb(long n) {
    long made = 0;
    int err = 0;
    pid_t* kids = static_cast<pid_t*>(std::calloc(static_cast<size_t>(n), sizeof(pid_t)));
    for (; made < n; ++made) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
        kids[made] = p;
    }
    std::printf("forked %ld of %ld%s%s\n", made, n, err ? ": " : "", err ? std::strerror(err) : "");
    std::fflush(stdout);
    for (long i = 0; i < made; ++i) kill(kids[i], SIGKILL);
    for (long i = 0; i < made; ++i) waitpid(kids[i], nullptr, 0);
    return 0;
}

int ids() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::printf("pid=%d ppid=%d hostname=%s uid=%d\n", getpid(), getppid(), host, getuid());
    FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    while (f && std::fgets(line, sizeof line, f))
        if (!std::strncmp(line, "Cap", 3) || !std::strncmp(line, "NoNewPrivs", 10)) std::fputs(line, stdout);
    if (f) std::fclose(f);
    return 0;
}

int usage() {
    std::fprintf(stderr, "usage: ctrbench-agent memhog MB | forkbomb N | hang | ids\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    if (!std::strcmp(argv[1], "memhog") && argc == 3) return memhog(std::atol(argv[2]));
    if (!std::strcmp(argv[1], "forkbomb") && argc == 3) return forkbomb(std::atol(argv[2]));
    if (!std::strcmp(argv[1], "hang")) {
        for (;;) pause();
    }
    if (!std::strcmp(argv[1], "ids")) return ids();
    return usage();
}
