// ctrbench-agent: the one static helper that runs inside every image, for workloads and tests alike
// (crun's tests/init.c idea). Kept to libc so the static binary stays small.
//   ctrbench-agent memhog MB        allocate and touch MB MiB, print "allocated MB MiB"
//   ctrbench-agent forkbomb N       fork up to N sleeping children, print how many succeeded
//   ctrbench-agent hang             sleep until killed
//   ctrbench-agent ids              print pid, ppid, hostname, uid and the capability sets
//   ctrbench-agent sqlite-read DB   select every row of every table: "read R rows (B bytes) from T tables"
//   ctrbench-agent sqlite-write SRC DEST   copy SRC to DEST, then duplicate every table: "wrote R rows ..."
//   ctrbench-agent files-read DIR   read every file fully: "read N files (B bytes)"
//   ctrbench-agent tar-extract ARCHIVE DIR   extract with libarchive: "extracted N files (B bytes)"
//   ctrbench-agent probe KEY=VALUE...   the isolation workload's probes (probes.cpp), a line each
//   ctrbench-agent guest-init [CMD...]   a microvm guest's first process, CMD the container's (guest_init.cpp)
//   ctrbench-agent memtouch MB OUTDIR [external-unix] | memtouch-wake PID OUTDIR MS | criu-dump PID IMAGES WORK |
//                  criu-restore IMAGES WORK eager|lazy [tcp-close] | checkpoint-wake WORK MS
//                                                                     the checkpoint workload's (memtouch.cpp)
// The I/O commands are the thesis's workloads (section 4.2.2); they print what they did so the
// harness can check the work really happened.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "ctrbench-agent: %s: %s\n", what, detail);
    return 1;
}

int forkbomb(long n) {
    long made = 0;
    int err = 0;
    pid_t* kids = static_cast<pid_t*>(std::calloc(static_cast<size_t>(n), sizeof(pid_t)));
    if (!kids) return fail("forkbomb", std::strerror(ENOMEM));
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
    std::free(kids);
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

int sqlite_read(const char* path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return fail(path, sqlite3_errmsg(db));
    sqlite3_stmt* tables = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1, &tables, nullptr);
    long long rows = 0, bytes = 0, ntables = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[256];
        std::snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"",
                      reinterpret_cast<const char*>(sqlite3_column_text(tables, 0)));
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return fail(sql, sqlite3_errmsg(db));
        int cols = sqlite3_column_count(st);
        while (sqlite3_step(st) == SQLITE_ROW) {
            ++rows;
            for (int c = 0; c < cols; ++c) {
                sqlite3_column_blob(st, c);  // materialise every value
                bytes += sqlite3_column_bytes(st, c);
            }
        }
        sqlite3_finalize(st);
        ++ntables;
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    if (ntables == 0) return fail(path, "no tables: not a ctrbench database");
    std::printf("read %lld rows (%lld bytes) from %lld tables\n", rows, bytes, ntables);
    return 0;
}

int copy_file(const char* from, const char* to) {
    int in = open(from, O_RDONLY);
    if (in < 0) return fail(from, std::strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) return close(in), fail(to, std::strerror(errno));
    char buf[1 << 16];
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;)
        if (write(out, buf, static_cast<size_t>(n)) != n) return close(in), close(out), fail(to, std::strerror(errno));
    close(in);
    if (fsync(out) != 0 || close(out) != 0) return fail(to, std::strerror(errno));
    return 0;
}

int sqlite_write(const char* src, const char* dest) {
    if (int rc = copy_file(src, dest)) return rc;
    sqlite3* db = nullptr;
    if (sqlite3_open(dest, &db) != SQLITE_OK) return fail(dest, sqlite3_errmsg(db));
    sqlite3_stmt* tables = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1, &tables, nullptr);
    char names[32][64];
    int n = 0;
    while (n < 32 && sqlite3_step(tables) == SQLITE_ROW)
        std::snprintf(names[n++], 64, "%s", reinterpret_cast<const char*>(sqlite3_column_text(tables, 0)));
    sqlite3_finalize(tables);
    if (n == 0) return fail(src, "no tables: not a ctrbench database");
    long long rows = 0;
    char* err = nullptr;
    if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, &err) != SQLITE_OK) return fail("BEGIN", err);
    for (int i = 0; i < n; ++i) {
        char sql[256];
        std::snprintf(sql, sizeof sql, "CREATE TABLE \"%s_copy\" AS SELECT * FROM \"%s\"", names[i], names[i]);
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) return fail(sql, err);
        // sqlite3_changes() does not count CREATE TABLE ... AS: count the copy.
        std::snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s_copy\"", names[i]);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
        if (sqlite3_step(st) == SQLITE_ROW) rows += sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, &err) != SQLITE_OK) return fail("COMMIT", err);
    sqlite3_close(db);
    std::printf("wrote %lld rows into %d tables\n", rows, n);
    return 0;
}

int files_read(const char* dir) {
    DIR* d = opendir(dir);
    if (!d) return fail(dir, std::strerror(errno));
    long long files = 0, bytes = 0;
    char buf[1 << 16];
    int dfd = dirfd(d);
    if (dfd < 0) return fail(dir, std::strerror(errno));
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = openat(dfd, e->d_name, O_RDONLY);
        if (fd < 0) return fail(e->d_name, std::strerror(errno));
        for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) bytes += n;
        close(fd);
        ++files;
    }
    closedir(d);
    std::printf("read %lld files (%lld bytes)\n", files, bytes);
    return 0;
}

// libarchive's message with the system's reason ("Write failed: No space left on device").
std::string archive_reason(archive* a) {
    std::string r = archive_error_string(a) ? archive_error_string(a) : "unknown error";
    if (int e = archive_errno(a); e > 0 && r.find(std::strerror(e)) == std::string::npos)
        r += std::string(": ") + std::strerror(e);
    return r;
}

int tar_extract(const char* tar, const char* dir) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return fail(dir, std::strerror(errno));
    if (chdir(dir) != 0) return fail(dir, std::strerror(errno));
    archive* in = archive_read_new();
    archive_read_support_format_tar(in);
    archive* out = archive_write_disk_new();
    archive_write_disk_set_options(
        out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    if (archive_read_open_filename(in, tar, 1 << 16) != ARCHIVE_OK) return fail(tar, archive_reason(in).c_str());
    long long files = 0, bytes = 0;
    archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
        if (archive_write_header(out, e) != ARCHIVE_OK)
            return fail(archive_entry_pathname(e), archive_reason(out).c_str());
        const void* block;
        size_t size;
        la_int64_t offset;
        while (archive_read_data_block(in, &block, &size, &offset) == ARCHIVE_OK) {
            if (archive_write_data_block(out, block, size, offset) != ARCHIVE_OK)
                return fail(archive_entry_pathname(e), archive_reason(out).c_str());
            bytes += static_cast<long long>(size);
        }
        if (archive_write_finish_entry(out) != ARCHIVE_OK)
            return fail(archive_entry_pathname(e), archive_reason(out).c_str());
        files += archive_entry_filetype(e) == AE_IFREG;
    }
    if (rc != ARCHIVE_EOF) return fail(tar, archive_reason(in).c_str());
    archive_read_free(in);
    archive_write_free(out);
    std::printf("extracted %lld files (%lld bytes)\n", files, bytes);
    return 0;
}

int usage() {
    std::fprintf(
        stderr,
        "usage: ctrbench-agent memhog MB | forkbomb N | hang | ids | sqlite-read DB | sqlite-write SRC DEST |"
        " files-read DIR | tar-extract ARCHIVE DIR | traceme-thread | probe KEY=VALUE... |"
        " memtouch MB OUTDIR [external-unix] | memtouch-wake PID OUTDIR MS | criu-dump PID IMAGES WORK [tcp-close] |"
        " criu-restore IMAGES WORK eager|lazy [tcp-close] | checkpoint-wake WORK MS | service-start [--high-pid] "
        "PROGRAM ARGS...\n");
    return 2;
}

// A hostile payload's trick (issue 13): a thread asks to be traced by the process's parent (the
// launcher: the harness, a runtime, a shim) and the process exits at once. The traced thread stays
// a zombie until its tracer reaps it; a launcher that does not would wait for the process forever.
int traceme_thread() {
    pthread_t t;
    if (pthread_create(
            &t, nullptr,
            [](void*) -> void* {
                long r = ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
                std::printf("traceme %s\n", r == 0 ? "allowed" : std::strerror(errno));
                std::fflush(stdout);
                return nullptr;
            },
            nullptr) != 0)
        return fail("pthread_create", std::strerror(errno));
    pthread_join(t, nullptr);  // the thread is traced now; the process leaves with it still there
    _exit(0);
}

}  // namespace

int probe_all(int argc, char** argv);  // probes.cpp
int probe_euid();
int guest_init(int argc, char** argv);                          // guest_init.cpp
int memtouch(long mb, const char* outdir, bool external_unix);  // memtouch.cpp
int memtouch_wake(pid_t pid, const char* outdir, long timeout_ms);
int criu_dump(pid_t pid, const char* images, const char* work, bool tcp_close);
int service_start(char** argv, bool high_pid);
int criu_restore(const char* images, const char* work, const char* mode, bool tcp_close);
int checkpoint_wake(const char* work, long timeout_ms);

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    if (!std::strcmp(argv[1], "memhog") && argc == 3) return memhog(std::atol(argv[2]));
    if (!std::strcmp(argv[1], "forkbomb") && argc == 3) return forkbomb(std::atol(argv[2]));
    if (!std::strcmp(argv[1], "hang")) {
        for (;;) pause();
    }
    if (!std::strcmp(argv[1], "ids")) return ids();
    if (!std::strcmp(argv[1], "traceme-thread")) return traceme_thread();
    if (!std::strcmp(argv[1], "probe")) return probe_all(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "euid")) return probe_euid();
    if (!std::strcmp(argv[1], "guest-init") && ::getpid() == 1) return guest_init(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "sqlite-read") && argc == 3) return sqlite_read(argv[2]);
    if (!std::strcmp(argv[1], "sqlite-write") && argc == 4) return sqlite_write(argv[2], argv[3]);
    if (!std::strcmp(argv[1], "files-read") && argc == 3) return files_read(argv[2]);
    if (!std::strcmp(argv[1], "tar-extract") && argc == 4) return tar_extract(argv[2], argv[3]);
    if (!std::strcmp(argv[1], "memtouch") && argc == 4) return memtouch(std::atol(argv[2]), argv[3], false);
    if (!std::strcmp(argv[1], "memtouch") && argc == 5 && !std::strcmp(argv[4], "external-unix"))
        return memtouch(std::atol(argv[2]), argv[3], true);
    if (!std::strcmp(argv[1], "memtouch-wake") && argc == 5)
        return memtouch_wake(static_cast<pid_t>(std::atol(argv[2])), argv[3], std::atol(argv[4]));
    if (!std::strcmp(argv[1], "criu-dump") && (argc == 5 || (argc == 6 && !std::strcmp(argv[5], "tcp-close"))))
        return criu_dump(static_cast<pid_t>(std::atol(argv[2])), argv[3], argv[4], argc == 6);
    if (!std::strcmp(argv[1], "service-start") && argc >= 3) {
        const bool high = !std::strcmp(argv[2], "--high-pid");
        if (argc > (high ? 3 : 2)) return service_start(argv + (high ? 3 : 2), high);
    }
    if (!std::strcmp(argv[1], "criu-restore") && (argc == 5 || (argc == 6 && !std::strcmp(argv[5], "tcp-close"))))
        return criu_restore(argv[2], argv[3], argv[4], argc == 6);
    if (!std::strcmp(argv[1], "checkpoint-wake") && argc == 4) return checkpoint_wake(argv[2], std::atol(argv[3]));
    return usage();
}
