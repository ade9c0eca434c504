// Safetensors parser and float conversions. The header is parsed without exceptions
// (nlohmann::json::parse with allow_exceptions = false); a parse callback rejects duplicate tensor
// names, which nlohmann would otherwise silently overwrite. Sizes are computed with overflow
// checks so absurd shapes fail as CorruptFile instead of wrapping around.
#include "formats/safetensors/safetensors-file.h"

#include "core/half.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace moe::st {

namespace {

struct DtypeInfo {
    Dtype dtype;
    const char* name;
    int bits;
};

constexpr DtypeInfo kDtypes[] = {
    {Dtype::Bool, "BOOL", 8},         {Dtype::U8, "U8", 8},
    {Dtype::I8, "I8", 8},             {Dtype::I16, "I16", 16},
    {Dtype::U16, "U16", 16},          {Dtype::F16, "F16", 16},
    {Dtype::BF16, "BF16", 16},        {Dtype::I32, "I32", 32},
    {Dtype::U32, "U32", 32},          {Dtype::F32, "F32", 32},
    {Dtype::I64, "I64", 64},          {Dtype::U64, "U64", 64},
    {Dtype::F64, "F64", 64},          {Dtype::C64, "C64", 64},
    {Dtype::F8E4M3, "F8_E4M3", 8},    {Dtype::F8E5M2, "F8_E5M2", 8},
    {Dtype::F8E4M3Fnuz, "F8_E4M3FNUZ", 8}, {Dtype::F8E5M2Fnuz, "F8_E5M2FNUZ", 8},
    {Dtype::F8E8M0, "F8_E8M0", 8},    {Dtype::F6E2M3, "F6_E2M3", 6},
    {Dtype::F6E3M2, "F6_E3M2", 6},    {Dtype::F4, "F4", 4},
};

const DtypeInfo& info(Dtype d) {
    for (const DtypeInfo& i : kDtypes)
        if (i.dtype == d) return i;
    return kDtypes[0]; // unreachable: every enumerator is in the table
}

Status corrupt(const std::string& path, const std::string& what) {
    return Status(StatusCode::CorruptFile, path + ": " + what);
}

// A JSON value as a non-negative integer that fits in uint64.
bool asU64(const nlohmann::json& v, uint64_t& out) {
    if (v.is_number_unsigned()) {
        out = v.get<uint64_t>();
        return true;
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        out = uint64_t(v.get<int64_t>());
        return true;
    }
    return false;
}

} // namespace

bool parseDtype(std::string_view name, Dtype& out) {
    for (const DtypeInfo& i : kDtypes)
        if (name == i.name) {
            out = i.dtype;
            return true;
        }
    return false;
}

const char* dtypeName(Dtype d) { return info(d).name; }
int dtypeBits(Dtype d) { return info(d).bits; }

float f8e4m3ToF32(uint8_t v) {
    const float sign = (v & 0x80) ? -1.0f : 1.0f;
    const int exp = (v >> 3) & 0xf;
    const int mant = v & 0x7;
    if (exp == 0xf && mant == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (exp == 0) return sign * std::ldexp(float(mant), -9); // subnormal: mant/8 * 2^-6
    return sign * std::ldexp(1.0f + float(mant) / 8.0f, exp - 7);
}

const Tensor* SafetensorsFile::tensor(std::string_view name) const {
    auto it = m_index.find(std::string(name));
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    SafetensorsFile f;
    MOE_ASSIGN_OR_RETURN(f.m_file, MappedFile::open(path));
    const uint64_t size = f.m_file.size();
    if (size < 8)
        return corrupt(path, "file is " + std::to_string(size) +
                                 " bytes, too short for the 8-byte header length");
    uint64_t n = 0;
    std::memcpy(&n, f.m_file.data(), 8); // little-endian hosts only (x86-64, arm64)
    if (n > kMaxHeaderBytes)
        return corrupt(path, "header length " + std::to_string(n) + " exceeds the limit of " +
                                 std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size - 8)
        return corrupt(path, "header length " + std::to_string(n) + " runs past the end of the file (" +
                                 std::to_string(size) + " bytes)");
    if (n < 2 || f.m_file.data()[8] != '{')
        return corrupt(path, "the JSON header (bytes 8.." + std::to_string(8 + n) +
                                 ") does not start with '{'");
    f.m_headerBytes = n;
    const char* text = reinterpret_cast<const char*>(f.m_file.data() + 8);

    std::string duplicate;
    std::set<std::string> seen;
    auto onEvent = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
        if (ev == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string()) {
            const std::string& k = parsed.get_ref<const std::string&>();
            if (!seen.insert(k).second && duplicate.empty()) duplicate = k;
        }
        return true;
    };
    nlohmann::json header = nlohmann::json::parse(text, text + n, onEvent, false);
    if (header.is_discarded())
        return corrupt(path, "the header (" + std::to_string(n) + " bytes at offset 8) is not valid JSON");
    if (!header.is_object()) return corrupt(path, "the header is JSON but not an object");
    if (!duplicate.empty()) return corrupt(path, "tensor '" + duplicate + "' appears twice in the header");

    const uint64_t bufferStart = 8 + n;
    const uint64_t bufferBytes = size - bufferStart;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const nlohmann::json& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) return corrupt(path, "__metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    return corrupt(path, "__metadata__['" + m.key() + "'] is not a string");
                f.m_metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor '" + name + "'";
        if (!v.is_object()) return corrupt(path, where + " is not an object");
        auto dt = v.find("dtype");
        auto sh = v.find("shape");
        auto off = v.find("data_offsets");
        if (dt == v.end() || !dt->is_string()) return corrupt(path, where + ": 'dtype' is missing or not a string");
        if (sh == v.end() || !sh->is_array()) return corrupt(path, where + ": 'shape' is missing or not an array");
        if (off == v.end() || !off->is_array() || off->size() != 2)
            return corrupt(path, where + ": 'data_offsets' is missing or not a pair [begin, end]");
        Tensor t;
        t.name = name;
        const std::string dtypeStr = dt->get<std::string>();
        if (!parseDtype(dtypeStr, t.dtype)) return corrupt(path, where + ": unknown dtype '" + dtypeStr + "'");
        // elements * bits must stay below 2^64; any real tensor is far smaller than the file.
        const uint64_t kMaxElements = std::numeric_limits<uint64_t>::max() / 64;
        t.elements = 1;
        for (const nlohmann::json& d : *sh) {
            uint64_t dim = 0;
            if (!asU64(d, dim) || dim > uint64_t(std::numeric_limits<int64_t>::max()))
                return corrupt(path, where + ": shape " + sh->dump() + " has a dimension that is not a non-negative integer");
            if (dim != 0 && t.elements > kMaxElements / dim)
                return corrupt(path, where + ": shape " + sh->dump() + " has more elements than any file can hold");
            t.elements *= dim;
            t.shape.push_back(int64_t(dim));
        }
        const uint64_t bits = t.elements * uint64_t(dtypeBits(t.dtype));
        if (bits % 8 != 0)
            return corrupt(path, where + ": " + std::to_string(t.elements) + " elements of " + dtypeStr +
                                     " are not a whole number of bytes");
        if (!asU64((*off)[0], t.begin) || !asU64((*off)[1], t.end) || t.end < t.begin)
            return corrupt(path, where + ": data_offsets " + off->dump() + " are not non-negative [begin, end] with begin <= end");
        if (t.end > bufferBytes)
            return corrupt(path, where + ": data_offsets " + off->dump() + " end past the data buffer (" +
                                     std::to_string(bufferBytes) + " bytes after the header)");
        if (t.bytes() != bits / 8)
            return corrupt(path, where + ": data_offsets " + off->dump() + " span " + std::to_string(t.bytes()) +
                                     " bytes, but shape " + sh->dump() + " of " + dtypeStr + " needs " +
                                     std::to_string(bits / 8));
        t.data = f.m_file.data() + bufferStart + t.begin;
        f.m_tensors.push_back(std::move(t));
    }

    std::sort(f.m_tensors.begin(), f.m_tensors.end(), [](const Tensor& a, const Tensor& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t expected = 0;
    const Tensor* prev = nullptr;
    for (const Tensor& t : f.m_tensors) {
        if (t.begin < expected)
            return corrupt(path, "tensor '" + t.name + "' (bytes " + std::to_string(t.begin) + ".." +
                                     std::to_string(t.end) + ") overlaps tensor '" + prev->name + "' (ends at " +
                                     std::to_string(expected) + ")");
        if (t.begin > expected)
            return corrupt(path, "bytes " + std::to_string(expected) + ".." + std::to_string(t.begin) +
                                     " of the data buffer belong to no tensor (hole before '" + t.name + "')");
        expected = t.end;
        prev = &t;
    }
    if (expected != bufferBytes)
        return corrupt(path, "the data buffer has " + std::to_string(bufferBytes - expected) +
                                 " trailing bytes after the last tensor (ends at " + std::to_string(expected) +
                                 " of " + std::to_string(bufferBytes) + ")");
    for (size_t i = 0; i < f.m_tensors.size(); ++i) f.m_index.emplace(f.m_tensors[i].name, i);
    return f;
}

Status toF32(const Tensor& t, const std::string& path, std::vector<float>& out) {
    out.resize(static_cast<size_t>(t.elements));
    const uint8_t* p = t.data;
    switch (t.dtype) {
    case Dtype::F32:
        if (t.elements) std::memcpy(out.data(), p, t.elements * 4);
        return Status::ok();
    case Dtype::F16:
    case Dtype::BF16:
        for (uint64_t i = 0; i < t.elements; ++i) {
            uint16_t h;
            std::memcpy(&h, p + i * 2, 2);
            out[i] = t.dtype == Dtype::F16 ? f16ToF32(h) : bf16ToF32(h);
        }
        return Status::ok();
    case Dtype::F64:
        for (uint64_t i = 0; i < t.elements; ++i) {
            double d;
            std::memcpy(&d, p + i * 8, 8);
            out[i] = float(d);
        }
        return Status::ok();
    case Dtype::F8E4M3:
        for (uint64_t i = 0; i < t.elements; ++i) out[i] = f8e4m3ToF32(p[i]);
        return Status::ok();
    default:
        return Status(StatusCode::Unsupported, path + ": tensor '" + t.name + "' is " + dtypeName(t.dtype) +
                                                   "; float conversion reads F32, F16, BF16, F64 and F8_E4M3");
    }
}

Status dequantizeFp8Blocks(const Tensor& w, const Tensor& scaleInv, const std::string& path,
                           std::vector<float>& out, int64_t block) {
    if (w.dtype != Dtype::F8E4M3 || w.shape.size() != 2)
        return Status(StatusCode::CorruptFile, path + ": tensor '" + w.name +
                                                   "' must be a 2-D F8_E4M3 matrix to take block scales");
    const int64_t rows = w.shape[0], cols = w.shape[1];
    const int64_t br = (rows + block - 1) / block, bc = (cols + block - 1) / block;
    if (scaleInv.shape != std::vector<int64_t>{br, bc})
        return Status(StatusCode::CorruptFile,
                      path + ": tensor '" + scaleInv.name + "' has " + std::to_string(scaleInv.shape.size()) +
                          " dims / " + std::to_string(scaleInv.elements) + " elements, expected [" +
                          std::to_string(br) + ", " + std::to_string(bc) + "] block scales for '" + w.name +
                          "' [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    std::vector<float> scales;
    MOE_TRY(toF32(scaleInv, path, scales));
    out.resize(static_cast<size_t>(w.elements));
    for (int64_t i = 0; i < rows; ++i) {
        const float* srow = scales.data() + (i / block) * bc;
        for (int64_t j = 0; j < cols; ++j)
            out[size_t(i * cols + j)] = f8e4m3ToF32(w.data[i * cols + j]) * srow[j / block];
    }
    return Status::ok();
}

} // namespace moe::st
