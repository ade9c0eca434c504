// MappedFile: a whole file memory-mapped read-only (RAII). Model weights are read through it, so
// nothing is copied until a backend needs the bytes. Move-only.
#pragma once

#include "moe/status.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace moe {

class MappedFile {
public:
    MappedFile() = default;
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // Maps path read-only. A zero-length file maps to an empty span. Errors name the path and
    // the OS message.
    static Result<MappedFile> open(const std::string& path);

    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    std::span<const uint8_t> bytes() const { return {m_data, m_size}; }
    const std::string& path() const { return m_path; }

private:
    void release();
    const uint8_t* m_data = nullptr;
    size_t m_size = 0;
    std::string m_path;
};

} // namespace moe
