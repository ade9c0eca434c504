// .npy writer (cli-npy.h). Format (numpy/lib/format.py, version 1.0): "\x93NUMPY", 0x01 0x00,
// uint16 little-endian header length, an ASCII dict {'descr': '<f4', 'fortran_order': False,
// 'shape': (..), } padded with spaces and ending in '\n' so the data starts at a multiple of 64.
#include "cli-npy.h"

#include <bit>
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
