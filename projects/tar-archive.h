// A minimal POSIX ustar writer and reader for project exports: regular files and folders only,
// names up to 255 bytes (prefix + name), sizes past 8 GiB in GNU base-256. The format is plain
// tar so a user can inspect or unpack an export with `tar tf` / `tar xf` without the studio.
// The reader refuses anything else (links, devices, absolute names, "..") so an archive cannot
// write outside the folder it is unpacked into.
#pragma once

#include "moe/status.h"

#include <cstdio>
#include <string>

namespace moe::projects {

class TarWriter {
public:
    // Creates path (truncating). Errors name path.
    static Result<TarWriter> create(const std::string& path);
    TarWriter(TarWriter&& other) noexcept;
    TarWriter& operator=(TarWriter&&) = delete;
    ~TarWriter();

    // name: relative path inside the archive; file: the file on disk to copy in.
    Status addFile(const std::string& name, const std::string& file);
    Status addDirectory(const std::string& name);
    // Writes the end-of-archive blocks, flushes and fsyncs.
    Status finish();

private:
    TarWriter(std::FILE* f, std::string path) : m_file(f), m_path(std::move(path)) {}
    Status writeHeader(const std::string& name, char type, uint64_t size);
    Status writeBytes(const void* data, size_t size);

    std::FILE* m_file = nullptr;
    std::string m_path;
};

// Unpacks archive into dir (which must exist). Fails naming the archive and the entry on a bad
// header, an unsupported entry type or an unsafe name.
Status extractTar(const std::string& archive, const std::string& dir);

} // namespace moe::projects
