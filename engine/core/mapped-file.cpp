// MappedFile on POSIX: open + fstat + mmap(PROT_READ, MAP_PRIVATE).
#include "core/mapped-file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace moe {

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_data(other.m_data), m_size(other.m_size), m_path(std::move(other.m_path)) {
    other.m_data = nullptr;
    other.m_size = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        m_data = other.m_data;
        m_size = other.m_size;
        m_path = std::move(other.m_path);
        other.m_data = nullptr;
        other.m_size = 0;
    }
    return *this;
}

void MappedFile::release() {
    if (m_data && m_size) munmap(const_cast<uint8_t*>(m_data), m_size);
    m_data = nullptr;
    m_size = 0;
}

Result<MappedFile> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return Status(err == ENOENT ? StatusCode::NotFound : StatusCode::IoError,
                      path + ": cannot open: " + std::strerror(err));
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return Status(StatusCode::IoError, path + ": cannot stat: " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Status(StatusCode::InvalidArgument, path + ": not a regular file");
    }
    MappedFile file;
    file.m_path = path;
    file.m_size = static_cast<size_t>(st.st_size);
    if (file.m_size > 0) {
        void* p = mmap(nullptr, file.m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            file.m_size = 0;
            return Status(err == ENOMEM ? StatusCode::OutOfMemory : StatusCode::IoError,
                          path + ": cannot map " + std::to_string(st.st_size) +
                              " bytes: " + std::strerror(err));
        }
        file.m_data = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
    return file;
}

} // namespace moe
