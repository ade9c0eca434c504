// ProjectLock: one studio process at a time per project folder. An advisory flock(LOCK_EX) on
// <dir>/project.lock, whose text says who holds it ("pid 1234 on host box since <time>") so the
// refusal message can name the holder. The kernel drops the lock when the holder dies (SIGKILL
// included), so a stale lock file never blocks anyone: only a live holder does.
// Within one process the lock is shared: every read-write store of the same folder holds the
// same ProjectLock (reference counted), because flock would otherwise refuse a second open
// from the same process (the GUI's store and a worker's store). A forked child inherits the
// lock with the descriptor; do not fork while holding a store.
#pragma once

#include "moe/status.h"

#include <memory>
#include <string>

namespace moe::projects {

// This process's identity in runs.owner: "pid@host#nonce" (the nonce tells a reused pid apart).
const std::string& processOwnerId();

class ProjectLock {
public:
    // dir: the normalized project folder. Fails with IoError naming the holder's pid when another
    // process holds the lock, or naming the folder when the lock file cannot be created
    // (read-only folder: suggests OpenMode::ReadOnly).
    static Result<std::shared_ptr<ProjectLock>> acquire(const std::string& dir);
    ~ProjectLock();
    ProjectLock(const ProjectLock&) = delete;
    ProjectLock& operator=(const ProjectLock&) = delete;

    const std::string& path() const { return m_path; }

private:
    ProjectLock(std::string dir, std::string path, int fd)
        : m_dir(std::move(dir)), m_path(std::move(path)), m_fd(fd) {}

    std::string m_dir;
    std::string m_path;
    int m_fd = -1;
};

} // namespace moe::projects
