// What identifies a file's current content cheaply, for polling watchers (jwks_file,
// --watch-config): stat() follows symlinks, so a Kubernetes "..data" symlink swap or an
// atomic rename shows as a new inode.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace jwtgate::proxy {

struct file_signature {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const file_signature&) const = default;
};

inline file_signature stat_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return {};
    }
    return {true,
            st.st_dev,
            st.st_ino,
            st.st_size,
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
            static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

} // namespace jwtgate::proxy
