// A minimal reader of NumPy .npy files (format versions 1.0-3.0) holding little-endian float32
// ('<f4') arrays in C order: what tests/parity/make_goldens.py writes with numpy.save. Header
// layout from numpy's format spec (numpy/lib/format.py): magic "\x93NUMPY", major, minor, a
// header length (u16 for 1.0, u32 for 2.0+), then a Python dict literal with 'descr',
// 'fortran_order' and 'shape'. Test code only: anything else is refused with a message.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace moe::testing {

struct NpyF32 {
    std::vector<int64_t> shape;
    std::vector<float> data; // row-major, shape's product elements
};

namespace detail {

// The text after "'key':" in the header dict, with leading spaces skipped; npos when absent.
inline size_t npyValueAt(const std::string& header, const std::string& key) {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos) return at;
    at = header.find(':', at);
    if (at == std::string::npos) return at;
    ++at;
    while (at < header.size() && header[at] == ' ')
        ++at;
    return at;
}

} // namespace detail

// Reads path into out. Returns an empty string on success, else what is wrong (naming the file).
inline std::string readNpyF32(const std::string& path, NpyF32& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return path + ": cannot open";
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
        return path + ": not a .npy file (magic \\x93NUMPY expected)";
    const int major = static_cast<unsigned char>(magic[6]);
    uint32_t headerLen = 0;
    if (major == 1) {
        unsigned char b[2];
        if (!in.read(reinterpret_cast<char*>(b), 2)) return path + ": truncated header length";
        headerLen = uint32_t(b[0]) | uint32_t(b[1]) << 8;
    } else if (major == 2 || major == 3) {
        unsigned char b[4];
        if (!in.read(reinterpret_cast<char*>(b), 4)) return path + ": truncated header length";
        headerLen =
            uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    } else {
        return path + ": .npy format version " + std::to_string(major) + " (1, 2 or 3 expected)";
    }
    if (headerLen > (1u << 20)) return path + ": header of " + std::to_string(headerLen) + " bytes";
    std::string header(headerLen, '\0');
    if (!in.read(header.data(), headerLen)) return path + ": truncated header";

    const size_t descr = detail::npyValueAt(header, "descr");
    if (descr == std::string::npos || header.compare(descr, 5, "'<f4'") != 0)
        return path + ": dtype is not '<f4' (header " + header + ")";
    const size_t fortran = detail::npyValueAt(header, "fortran_order");
    if (fortran == std::string::npos || header.compare(fortran, 5, "False") != 0)
        return path + ": only C-order arrays are read (header " + header + ")";
    size_t at = detail::npyValueAt(header, "shape");
    if (at == std::string::npos || header[at] != '(')
        return path + ": no shape tuple (header " + header + ")";
    out.shape.clear();
    int64_t count = 1;
    for (++at; at < header.size() && header[at] != ')';) {
        if (header[at] == ' ' || header[at] == ',') {
            ++at;
            continue;
        }
        size_t used = 0;
        const long long dim = std::stoll(header.substr(at), &used);
        if (used == 0 || dim < 0) return path + ": bad shape (header " + header + ")";
        out.shape.push_back(dim);
        count *= dim;
        at += used;
    }
    out.data.assign(static_cast<size_t>(count), 0.0f);
    if (!in.read(reinterpret_cast<char*>(out.data.data()), std::streamsize(count * 4)))
        return path + ": fewer than the " + std::to_string(count) +
               " float32 values its shape needs";
    return {};
}

} // namespace moe::testing
