#include "drivers/lean/userns.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "core/process.h"
#include "drivers/common/cgroupfs.h"

namespace ctrbench::lean {
namespace {

namespace fs = std::filesystem;

// The image as it is now: the checksum the image build writes beside its rootfs (`<image>.sha256`),
// and the rootfs directory's inode and change time (a rebuilt image is a new directory).
Result<std::string> image_stamp(const fs::path& rootfs) {
    struct stat st;
    if (::stat(rootfs.c_str(), &st) != 0) return fail_sys("stat " + rootfs.string());
    std::ostringstream s;
    if (std::ifstream sum(rootfs.parent_path() / (rootfs.parent_path().filename().string() + ".sha256")); sum)
        s << sum.rdbuf();
    s << st.st_ino << ":" << st.st_ctim.tv_sec << "." << st.st_ctim.tv_nsec << "\n";
    return s.str();
}

int shift_one(const char* path, const struct stat* st, int, struct FTW*) {
    if (st->st_uid >= kUsernsSize || st->st_gid >= kUsernsSize) {
        errno = EOVERFLOW;  // an owner the container's range cannot hold
        return -1;
    }
    if (::lchown(path, st->st_uid + kUsernsBase, st->st_gid + kUsernsBase) != 0) return -1;
    // chown clears the set-user-ID and set-group-ID bits: the image keeps its own.
    if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && ::chmod(path, st->st_mode & 07777) != 0)
        return -1;
    return 0;
}

}  // namespace

Status write_id_maps(pid_t pid) {
    const std::string map = "0 " + std::to_string(kUsernsBase) + " " + std::to_string(kUsernsSize) + "\n";
    const std::string proc = "/proc/" + std::to_string(pid);
    if (auto s = write_file(proc + "/uid_map", map); !s) return s;
    return write_file(proc + "/gid_map", map);
}

Status shift_owner(const fs::path& path) {
    errno = 0;
    if (::nftw(path.c_str(), shift_one, 64, FTW_PHYS) != 0)
        return fail_sys("shift the owners under " + path.string() + " into the user namespace's range");
    return {};
}

Result<fs::path> userns_rootfs(const fs::path& rootfs) {
    static std::mutex mu;                         // containers created side by side (throughput) share one copy
    static std::map<fs::path, fs::path> checked;  // this process checked (or made) them: no I/O again
    std::lock_guard lock(mu);
    if (auto known = checked.find(rootfs); known != checked.end()) return known->second;
    auto stamp = image_stamp(rootfs);
    if (!stamp) return fail(std::move(stamp.error()));
    fs::path copy = rootfs.string() + "-userns-" + std::to_string(kUsernsBase);
    const fs::path stamp_file = copy.string() + ".stamp";
    {
        std::ifstream in(stamp_file);
        std::stringstream had;
        had << in.rdbuf();
        if (in && had.str() == *stamp && fs::is_directory(copy)) return checked[rootfs] = copy;
    }
    const fs::path tmp = copy.string() + ".tmp-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(tmp, ec);
    auto cp = run_checked({"cp", "-a", "--", rootfs.string(), tmp.string()}, std::chrono::minutes(10));
    Status s = {};
    if (!cp)
        s = fail(std::move(cp.error()));
    else
        s = shift_owner(tmp);
    if (s) {
        fs::remove(stamp_file, ec);
        fs::remove_all(copy, ec);
        if (::rename(tmp.c_str(), copy.c_str()) != 0) s = fail_sys("rename " + tmp.string() + " to " + copy.string());
    }
    if (!s) {
        fs::remove_all(tmp, ec);
        return fail(std::move(s.error()).wrap("make the user namespace's copy of " + rootfs.string()));
    }
    std::ofstream(stamp_file) << *stamp;
    return checked[rootfs] = copy;
}

}  // namespace ctrbench::lean
