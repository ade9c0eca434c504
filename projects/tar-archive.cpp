// ustar writer/reader for project exports (see tar-archive.h). Header layout per POSIX.1-1988
// ustar: name[100] mode[8] uid[8] gid[8] size[12] mtime[12] chksum[8] typeflag[1] linkname[100]
// magic "ustar\0" version "00" uname[32] gname[32] devmajor[8] devminor[8] prefix[155].
#include "tar-archive.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>
#include <vector>

#include <unistd.h>

namespace moe::projects {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBlock = 512;

// width - 1 octal digits and a NUL; value must fit (callers' values do: modes, sizes < 8 GiB).
void putOctal(char* field, size_t width, uint64_t value) {
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = static_cast<char>('0' + (value & 7));
        value >>= 3;
    }
    field[width - 1] = '\0';
}

void putSize(char* field, uint64_t size) {
    if (size < (uint64_t{1} << 33)) {
        putOctal(field, 12, size);
        return;
    }
    field[0] = static_cast<char>(0x80); // GNU base-256
    for (int i = 11; i >= 1; --i) {
        field[i] = static_cast<char>(size & 0xff);
        size >>= 8;
    }
}

uint64_t readNumber(const char* field, size_t width) {
    if (static_cast<unsigned char>(field[0]) == 0x80) {
        uint64_t v = 0;
        for (size_t i = 1; i < width; ++i)
            v = (v << 8) | static_cast<unsigned char>(field[i]);
        return v;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < width && field[i]; ++i) {
        if (field[i] == ' ') continue;
        if (field[i] < '0' || field[i] > '7') break;
        v = v * 8 + static_cast<uint64_t>(field[i] - '0');
    }
    return v;
}

unsigned checksum(const unsigned char* header) {
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i)
        sum += (i >= 148 && i < 156) ? ' ' : header[i];
    return sum;
}

bool safeName(const std::string& name) {
    if (name.empty() || name.front() == '/') return false;
    for (const auto& part : fs::path(name)) {
        if (part == ".." || part == ".") return false;
    }
    return true;
}

} // namespace

Result<TarWriter> TarWriter::create(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        return errorStatus(StatusCode::IoError,
                           path + ": cannot create the export file: " + std::strerror(errno));
    }
    return TarWriter(f, path);
}

TarWriter::TarWriter(TarWriter&& other) noexcept
    : m_file(std::exchange(other.m_file, nullptr)), m_path(std::move(other.m_path)) {}

TarWriter::~TarWriter() {
    if (m_file) std::fclose(m_file);
}

Status TarWriter::writeBytes(const void* data, size_t size) {
    if (std::fwrite(data, 1, size, m_file) != size) {
        const int err = errno;
        return errorStatus(StatusCode::IoError,
                           m_path + ": write failed: " + std::strerror(err) +
                               (err == ENOSPC ? " (the disk is full)" : ""));
    }
    return Status::ok();
}

Status TarWriter::writeHeader(const std::string& name, char type, uint64_t size) {
    unsigned char header[kBlock] = {};
    char* h = reinterpret_cast<char*>(header);
    std::string base = name;
    std::string prefix;
    if (base.size() > 100) {
        // Split at a '/' so that prefix <= 155 and name <= 100.
        size_t cut = base.rfind('/', 155);
        while (cut != std::string::npos && base.size() - cut - 1 > 100)
            cut = cut == 0 ? std::string::npos : base.rfind('/', cut - 1);
        if (cut == std::string::npos || cut > 155) {
            return errorStatus(StatusCode::InvalidArgument,
                               m_path + ": path too long for the export format: " + name);
        }
        prefix = base.substr(0, cut);
        base = base.substr(cut + 1);
    }
    std::memcpy(h, base.data(), base.size());
    putOctal(h + 100, 8, type == '5' ? 0755 : 0644);
    putOctal(h + 108, 8, 0);
    putOctal(h + 116, 8, 0);
    putSize(h + 124, size);
    putOctal(h + 136, 12, static_cast<uint64_t>(std::time(nullptr)));
    h[156] = type;
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 345, prefix.data(), prefix.size());
    putOctal(h + 148, 7, checksum(header));
    h[155] = ' ';
    return writeBytes(header, kBlock);
}

Status TarWriter::addDirectory(const std::string& name) {
    return writeHeader(name.ends_with('/') ? name : name + "/", '5', 0);
}

Status TarWriter::addFile(const std::string& name, const std::string& file) {
    std::FILE* in = std::fopen(file.c_str(), "rb");
    if (!in) return errorStatus(StatusCode::IoError, file + ": cannot read: " + std::strerror(errno));
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    Status status = ec ? errorStatus(StatusCode::IoError, file + ": " + ec.message())
                       : writeHeader(name, '0', size);
    std::vector<char> buffer(1 << 20);
    uint64_t copied = 0;
    while (status.isOk() && copied < size) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - copied));
        const size_t got = std::fread(buffer.data(), 1, want, in);
        if (got == 0) {
            status = errorStatus(StatusCode::IoError, file + ": changed size while exporting");
            break;
        }
        status = writeBytes(buffer.data(), got);
        copied += got;
    }
    std::fclose(in);
    MOE_TRY(status);
    const size_t pad = (kBlock - size % kBlock) % kBlock;
    const char zeros[kBlock] = {};
    return writeBytes(zeros, pad);
}

Status TarWriter::finish() {
    const char zeros[2 * kBlock] = {};
    MOE_TRY(writeBytes(zeros, sizeof zeros));
    if (std::fflush(m_file) != 0 || ::fsync(::fileno(m_file)) != 0) {
        const int err = errno;
        return errorStatus(StatusCode::IoError,
                           m_path + ": flush failed: " + std::strerror(err) +
                               (err == ENOSPC ? " (the disk is full)" : ""));
    }
    const int rc = std::fclose(std::exchange(m_file, nullptr));
    if (rc != 0) return errorStatus(StatusCode::IoError, m_path + ": close failed");
    return Status::ok();
}

Status extractTar(const std::string& archive, const std::string& dir) {
    std::FILE* in = std::fopen(archive.c_str(), "rb");
    if (!in) {
        return errorStatus(StatusCode::IoError, archive + ": cannot read: " + std::strerror(errno));
    }
    struct Closer {
        std::FILE* f;
        ~Closer() { std::fclose(f); }
    } closer{in};
    std::vector<char> buffer(1 << 20);
    for (uint64_t offset = 0;; offset += kBlock) {
        unsigned char header[kBlock];
        if (std::fread(header, 1, kBlock, in) != kBlock) {
            return errorStatus(StatusCode::CorruptFile,
                               archive + ": truncated at byte " + std::to_string(offset) +
                                   " (no end-of-archive block)");
        }
        bool zero = true;
        for (const unsigned char c : header)
            zero = zero && c == 0;
        if (zero) return Status::ok();
        const char* h = reinterpret_cast<const char*>(header);
        if (readNumber(h + 148, 8) != checksum(header) || std::memcmp(h + 257, "ustar", 5) != 0) {
            return errorStatus(StatusCode::CorruptFile,
                               archive + ": byte " + std::to_string(offset) +
                                   ": not a tar header (bad checksum or magic)");
        }
        std::string name(h, strnlen(h, 100));
        const std::string prefix(h + 345, strnlen(h + 345, 155));
        if (!prefix.empty()) name = prefix + "/" + name;
        while (name.ends_with('/'))
            name.pop_back();
        if (!safeName(name)) {
            return errorStatus(StatusCode::CorruptFile,
                               archive + ": entry '" + name + "' is not a safe relative path");
        }
        const char type = h[156];
        const uint64_t size = readNumber(h + 124, 12);
        const fs::path target = fs::path(dir) / name;
        std::error_code ec;
        if (type == '5') {
            fs::create_directories(target, ec);
            if (ec) return errorStatus(StatusCode::IoError, target.string() + ": " + ec.message());
            continue;
        }
        if (type != '0' && type != '\0') {
            return errorStatus(StatusCode::Unsupported,
                               archive + ": entry '" + name + "' has type '" +
                                   std::string(1, type) + "'; only files and folders are allowed");
        }
        fs::create_directories(target.parent_path(), ec);
        std::FILE* out = std::fopen(target.c_str(), "wb");
        if (!out) {
            return errorStatus(StatusCode::IoError,
                               target.string() + ": cannot create: " + std::strerror(errno));
        }
        uint64_t left = size;
        Status status;
        while (left > 0 && status.isOk()) {
            const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), left));
            if (std::fread(buffer.data(), 1, want, in) != want) {
                status = errorStatus(StatusCode::CorruptFile,
                                     archive + ": entry '" + name + "' is truncated");
            } else if (std::fwrite(buffer.data(), 1, want, out) != want) {
                status = errorStatus(StatusCode::IoError, target.string() + ": write failed: " +
                                                              std::strerror(errno));
            }
            left -= want;
        }
        if (std::fclose(out) != 0 && status.isOk()) {
            status = errorStatus(StatusCode::IoError, target.string() + ": close failed");
        }
        MOE_TRY(status);
        const uint64_t pad = (kBlock - size % kBlock) % kBlock;
        if (pad && std::fseek(in, static_cast<long>(pad), SEEK_CUR) != 0) {
            return errorStatus(StatusCode::CorruptFile, archive + ": truncated padding");
        }
        offset += size + pad;
    }
}

} // namespace moe::projects
