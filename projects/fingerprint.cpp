// fileFingerprint(): identifies a model file or folder by content without reading gigabytes.
//
// A file's fingerprint is "fp1:" + SHA-256 (lowercase hex) of
//     size as 8 bytes little-endian
//     bytes [0, min(size, 8 MiB))                       the head: headers, metadata, tensor index
//     bytes [max(8 MiB, size - 8 MiB), size)             the tail, never overlapping the head
// so files up to 16 MiB are hashed whole. A folder's fingerprint is "fp1:" + SHA-256 of one line
//     <relative path> '\0' <size, decimal> '\0' <file fingerprint> '\n'
// per regular file below it (recursively, symlinks followed), in byte order of the relative
// path with '/' separators. Changing "fp1" means a new definition; stored hashes keep theirs.
#include "moe-projects/project-store.h"

#include "sha256.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace moe::projects {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kPartBytes = 8ull << 20;
constexpr size_t kChunkBytes = 1u << 20;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

Status ioError(const std::string& path, const char* what) {
    return errorStatus(StatusCode::IoError, path + ": " + what + ": " + std::strerror(errno));
}

// Hashes bytes [begin, end) of file into sha.
Status hashRange(std::FILE* file, const std::string& path, uint64_t begin, uint64_t end,
                 Sha256& sha) {
    if (begin >= end) return Status::ok();
    if (fseeko(file, static_cast<off_t>(begin), SEEK_SET) != 0) return ioError(path, "seek");
    std::vector<uint8_t> buffer(kChunkBytes);
    uint64_t left = end - begin;
    while (left > 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
        const size_t got = std::fread(buffer.data(), 1, want, file);
        if (got != want) {
            if (std::ferror(file)) return ioError(path, "read");
            return errorStatus(StatusCode::IoError,
                               path + ": file shrank while being fingerprinted");
        }
        sha.update(std::span<const uint8_t>(buffer.data(), got));
        left -= got;
    }
    return Status::ok();
}

Result<std::string> regularFileFingerprint(const std::string& path, uint64_t size) {
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) return ioError(path, "open for fingerprint");
    Sha256 sha;
    uint8_t sizeBytes[8];
    for (int i = 0; i < 8; ++i)
        sizeBytes[i] = uint8_t(size >> (8 * i));
    sha.update(std::span<const uint8_t>(sizeBytes, 8));
    const uint64_t headEnd = std::min(size, kPartBytes);
    MOE_TRY(hashRange(file.get(), path, 0, headEnd, sha));
    const uint64_t tailBegin = size > 2 * kPartBytes ? size - kPartBytes : headEnd;
    MOE_TRY(hashRange(file.get(), path, tailBegin, size, sha));
    return "fp1:" + sha.finishHex();
}

Result<std::string> folderFingerprint(const fs::path& dir) {
    struct Entry {
        std::string relative;
        fs::path full;
    };
    std::vector<Entry> entries;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code typeEc;
        if (!it->is_regular_file(typeEc)) continue;
        entries.push_back({it->path().lexically_relative(dir).generic_string(), it->path()});
    }
    if (ec) {
        return errorStatus(StatusCode::IoError,
                           dir.string() + ": list folder for fingerprint: " + ec.message());
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.relative < b.relative; });
    Sha256 sha;
    for (const Entry& entry : entries) {
        const uint64_t size = fs::file_size(entry.full, ec);
        if (ec) {
            return errorStatus(StatusCode::IoError,
                               entry.full.string() + ": file size: " + ec.message());
        }
        MOE_ASSIGN_OR_RETURN(const std::string fp,
                             regularFileFingerprint(entry.full.string(), size));
        sha.update(entry.relative);
        sha.update(std::string_view("\0", 1));
        sha.update(std::to_string(size));
        sha.update(std::string_view("\0", 1));
        sha.update(fp);
        sha.update("\n");
    }
    return "fp1:" + sha.finishHex();
}

} // namespace

Result<std::string> fileFingerprint(const std::string& path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        return errorStatus(StatusCode::NotFound, path + ": no such model file or folder");
    }
    if (fs::is_directory(status)) return folderFingerprint(path);
    if (!fs::is_regular_file(status)) {
        return errorStatus(StatusCode::InvalidArgument,
                           path + ": not a regular file or folder; cannot fingerprint it");
    }
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return errorStatus(StatusCode::IoError, path + ": file size: " + ec.message());
    return regularFileFingerprint(path, size);
}

} // namespace moe::projects
