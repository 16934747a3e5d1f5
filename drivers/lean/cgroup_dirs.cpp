#include "drivers/lean/cgroup_dirs.h"

#include <unistd.h>

#include <cerrno>

#include "drivers/common/cgroupfs.h"

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
