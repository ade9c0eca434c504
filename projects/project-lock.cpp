// ProjectLock (see project-lock.h): flock on <dir>/project.lock plus an in-process registry so
// stores of one process share one lock.
#include "project-lock.h"

#include "sqlite-db.h" // utcTimestampNow

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace moe::projects {

namespace {

std::mutex& registryMutex() {
    static std::mutex mutex;
    return mutex;
}

// dir -> the live lock of this process (weak: the last store to close releases it).
std::map<std::string, std::weak_ptr<ProjectLock>>& registry() {
    static std::map<std::string, std::weak_ptr<ProjectLock>> locks;
    return locks;
}

std::string hostName() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "unknown-host";
    return host;
}

std::string readHolder(int fd) {
    char text[512] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return "another process (it wrote no pid yet)";
    std::string holder(text, static_cast<size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0'))
        holder.pop_back();
    return holder;
}

} // namespace

const std::string& processOwnerId() {
    // Computed per pid so a forked child gets its own identity.
    static std::mutex mutex;
    static pid_t forPid = 0;
    static std::string id;
    std::lock_guard<std::mutex> guard(mutex);
    if (forPid != ::getpid()) {
        forPid = ::getpid();
        std::random_device device;
        char nonce[17];
        std::snprintf(nonce, sizeof nonce, "%08x%08x", device(), device());
        id = std::to_string(forPid) + "@" + hostName() + "#" + nonce;
    }
    return id;
}

Result<std::shared_ptr<ProjectLock>> ProjectLock::acquire(const std::string& dir) {
    std::lock_guard<std::mutex> guard(registryMutex());
    auto& locks = registry();
    if (auto it = locks.find(dir); it != locks.end()) {
        if (auto held = it->second.lock()) return held;
    }
    const std::string path = dir + "/project.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int err = errno;
        std::string text = path + ": cannot create the project lock file: " + std::strerror(err);
        if (err == EROFS || err == EACCES || err == EPERM) {
            text += " (the project folder is read-only; open the project read-only to view it)";
        }
        return errorStatus(StatusCode::IoError, std::move(text));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = readHolder(fd);
        ::close(fd);
        if (err == EWOULDBLOCK) {
            return errorStatus(StatusCode::IoError,
                               dir + ": the project is open in another MoE Studio process (" +
                                   holder + "); close it there first, or open read-only");
        }
        return errorStatus(StatusCode::IoError,
                           path + ": cannot lock the project: " + std::strerror(err));
    }
    // Who holds it, for the next process's message. Failing to write this is not fatal.
    const std::string text = "pid " + std::to_string(::getpid()) + " on host " + hostName() +
                             " since " + utcTimestampNow() + "\n";
    if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t n = ::pwrite(fd, text.data(), text.size(), 0);
    }
    std::shared_ptr<ProjectLock> lock(new ProjectLock(dir, path, fd));
    locks[dir] = lock;
    return lock;
}

ProjectLock::~ProjectLock() {
    {
        std::lock_guard<std::mutex> guard(registryMutex());
        auto& locks = registry();
        // Only erase our own entry: a new lock for dir may already be registered.
        if (auto it = locks.find(m_dir); it != locks.end() && it->second.expired()) locks.erase(it);
    }
    if (m_fd >= 0) {
        if (::ftruncate(m_fd, 0) != 0) {
            // Leaving the old holder text is harmless: the flock, not the text, is the lock.
        }
        ::flock(m_fd, LOCK_UN);
        ::close(m_fd);
    }
}

} // namespace moe::projects
