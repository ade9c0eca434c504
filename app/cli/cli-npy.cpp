// .npy writer (cli-npy.h). Format (numpy/lib/format.py, version 1.0): "\x93NUMPY", 0x01 0x00,
// uint16 little-endian header length, an ASCII dict {'descr': '<f4', 'fortran_order': False,
// 'shape': (..), } padded with spaces and ending in '\n' so the data starts at a multiple of 64.
#include "cli-npy.h"

#include <bit>
#include <climits>
#include <iterator>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

std::string npyImage(std::span<const float> data, const std::vector<int64_t>& shape) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    // numpy writes "(3,)" for one dimension and "(3, 4)" for more.
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) header += ", ";
        header += std::to_string(shape[i]);
    }
    if (shape.size() == 1) header += ",";
    header += "), }";
    const size_t preamble = 10; // magic (6) + version (2) + header length (2)
    const size_t total = preamble + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string out = "\x93NUMPY";
    out += char(1);
    out += char(0);
    const uint16_t hlen = uint16_t(header.size());
    out += char(hlen & 0xff);
    out += char(hlen >> 8);
    out += header;
    const size_t at = out.size();
    out.resize(at + data.size() * sizeof(float));
    for (size_t i = 0; i < data.size(); ++i) {
        uint32_t u = std::bit_cast<uint32_t>(data[i]);
        const unsigned char b[4] = {uint8_t(u), uint8_t(u >> 8), uint8_t(u >> 16),
                                    uint8_t(u >> 24)};
        std::memcpy(out.data() + at + i * 4, b, 4);
    }
    return out;
}

moe::Status writeNpy(const std::string& path, std::span<const float> data,
                     const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    if (n != int64_t(data.size()))
        return moe::Status(moe::StatusCode::InvalidArgument,
                           path + ": " + std::to_string(data.size()) +
                               " values do not fill the array shape");
    const std::string image = npyImage(data, shape);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return moe::Status(moe::StatusCode::IoError, tmp + ": cannot create the file");
        f.write(image.data(), std::streamsize(image.size()));
        if (!f.flush()) return moe::Status(moe::StatusCode::IoError, tmp + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return moe::Status(moe::StatusCode::IoError, path + ": cannot replace the file");
    }
    return moe::Status::ok();
}

moe::Status readNpyInt32(const std::string& path, std::vector<int32_t>& values, std::vector<int64_t>& shape) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return moe::Status(moe::StatusCode::IoError, path + ": cannot open");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto bad = [&](const std::string& why) { return moe::Status(moe::StatusCode::InvalidArgument, path + ": " + why); };
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return bad("not a .npy file");
    const int major = uint8_t(bytes[6]);
    size_t headerLen = 0, headerStart = 0;
    if (major == 1) {
        headerLen = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
        headerStart = 10;
    } else if (bytes.size() >= 12) {
        headerLen = 0;
        for (int i = 0; i < 4; ++i)
            headerLen |= size_t(uint8_t(bytes[size_t(8 + i)])) << (8 * i);
        headerStart = 12;
    }
    if (headerStart == 0 || headerStart + headerLen > bytes.size()) return bad("truncated header");
    const std::string header = bytes.substr(headerStart, headerLen);
    int width = 0;
    if (header.find("'<i4'") != std::string::npos) width = 4;
    else if (header.find("'<i8'") != std::string::npos) width = 8;
    else return bad("dtype must be int32 ('<i4') or int64 ('<i8')");
    if (header.find("'fortran_order': True") != std::string::npos) return bad("Fortran order is not supported");
    const size_t open = header.find("'shape': ("), close = header.find(')', open);
    if (open == std::string::npos || close == std::string::npos) return bad("no shape in the header");
    shape.clear();
    std::string dims = header.substr(open + 10, close - open - 10);
    size_t count = 1;
    for (size_t p = 0; p < dims.size();) {
        while (p < dims.size() && (dims[p] == ' ' || dims[p] == ',')) ++p;
        if (p >= dims.size()) break;
        size_t used = 0;
        const long long d = std::stoll(dims.substr(p), &used);
        shape.push_back(d);
        count *= size_t(d);
        p += used;
    }
    const size_t dataStart = headerStart + headerLen;
    if (bytes.size() - dataStart < count * size_t(width)) return bad("truncated data");
    values.resize(count);
    for (size_t i = 0; i < count; ++i) {
        if (width == 4) {
            int32_t v;
            std::memcpy(&v, bytes.data() + dataStart + 4 * i, 4);
            values[i] = v;
        } else {
            int64_t v;
            std::memcpy(&v, bytes.data() + dataStart + 8 * i, 8);
            if (v < INT32_MIN || v > INT32_MAX) return bad("value " + std::to_string(v) + " does not fit int32");
            values[i] = int32_t(v);
        }
    }
    return moe::Status::ok();
}
