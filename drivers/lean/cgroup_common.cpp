#include "drivers/lean/cgroup_common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ctrbench::lean {

Status write_file(const std::filesystem::path& path, const std::string& value) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // cgroupfs ignores O_TRUNC
    if (fd < 0) return fail_sys("open " + path.string());
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return fail_sys("write '" + value + "' to " + path.string(), err);
    return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return fail_sys("open " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Result<std::uint64_t> read_keyed(const std::filesystem::path& path, const std::string& key) {
    auto text = read_file(path);
    if (!text) return fail(std::move(text.error()));
    std::istringstream in(*text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return 0;
}

Result<std::vector<int>> read_pids(const std::filesystem::path& procs) {
    auto text = read_file(procs);
    if (!text) return fail(std::move(text.error()));
    std::istringstream in(*text);
    std::vector<int> pids;
    for (int p; in >> p;) pids.push_back(p);
    return pids;
}

Status make_dir(const std::filesystem::path& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail_sys("mkdir " + dir.string());
    return {};
}

Result<int> open_procs(const std::filesystem::path& dir) {
    auto path = dir / "cgroup.procs";
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail_sys("open " + path.string());
    return fd;
}

}  // namespace ctrbench::lean

namespace ctrbench::lean {

CgroupDirs::~CgroupDirs() {
    for (int fd : fds_) ::close(fd);
}

Status CgroupDirs::open() {
    for (const auto& d : dirs_) {
        auto fd = open_procs(d);
        if (!fd) return fail(std::move(fd.error()));
        fds_.push_back(*fd);
    }
    return {};
}

Result<std::vector<int>> CgroupDirs::pids() const {
    std::vector<int> all;
    for (const auto& d : dirs_) {
        auto p = read_pids(d / "cgroup.procs");
        if (!p) return fail(std::move(p.error()));
        all.insert(all.end(), p->begin(), p->end());
    }
    return all;
}

Status CgroupDirs::remove() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    for (const auto& d : dirs_)
        if (::rmdir(d.c_str()) != 0 && errno != ENOENT) return fail_sys("rmdir " + d.string());
    return {};
}

}  // namespace ctrbench::lean
