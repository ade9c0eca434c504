// Fuzz input as a file: the parsers under test take paths, so each process creates one memfd
// (an anonymous in-memory file) and rewrites it for every input; its /proc/self/fd path is passed
// to the parser. No disk I/O per execution, no temp files left behind by a crash.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace moe::fuzz {

// Replaces the contents of the process's fuzz file with data[0, size) and returns its path.
// Aborts (a fuzzer setup error, not a finding) if the memfd cannot be created or written.
inline const std::string& writeInputFile(const uint8_t* data, size_t size) {
    static int fd = -1;
    static std::string path;
    if (fd < 0) {
        fd = memfd_create("moe-fuzz-input", MFD_CLOEXEC);
        if (fd < 0) std::abort();
        path = "/proc/self/fd/" + std::to_string(fd);
    }
    if (ftruncate(fd, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
        const ssize_t n = pwrite(fd, data + done, size - done, off_t(done));
        if (n <= 0) std::abort();
        done += size_t(n);
    }
    return path;
}

} // namespace moe::fuzz
