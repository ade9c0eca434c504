// GGUF parser. Every read goes through Cursor, which checks the remaining bytes first; counts are
// checked against what the rest of the file could possibly hold before any vector is sized, so a
// hostile or truncated file yields a Status naming the offset and field, never a crash or a huge
// allocation.
#include "formats/gguf/gguf-reader.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace moe::gguf {

namespace {

constexpr uint64_t kMaxKeyLength = 65535;
constexpr uint64_t kMaxStringLength = uint64_t(1) << 30; // 1 GiB: tokenizer.json blobs fit
constexpr uint64_t kMaxTensorNameLength = 1024;
constexpr int kMaxArrayDepth = 4;
constexpr uint32_t kMaxDims = 4;

std::string hexOffset(uint64_t v) { return std::to_string(v); }

} // namespace

class GgufParser {
public:
    GgufParser(GgufFile& out) : m_out(out), m_data(out.m_file.data()), m_size(out.m_file.size()) {}

    Status parse();

private:
    Status fail(const std::string& what) const {
        return Status(StatusCode::CorruptFile,
                      m_out.path() + ": " + what + " (at byte " + hexOffset(m_pos) + " of " +
                          std::to_string(m_size) + ")");
    }
    uint64_t remaining() const { return m_size - m_pos; }

    template <class T> Status read(T& v, const char* field) {
        if (remaining() < sizeof(T))
            return fail(std::string("file ends inside ") + field + " (truncated file?)");
        std::memcpy(&v, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return Status::ok();
    }
    Status readString(std::string& s, uint64_t maxLength, const std::string& field);
    Status readValue(MetaValue& v, ValueType type, const std::string& key, int depth);

    GgufFile& m_out;
    const uint8_t* m_data;
    uint64_t m_size;
    uint64_t m_pos = 0;
};

Status GgufParser::readString(std::string& s, uint64_t maxLength, const std::string& field) {
    uint64_t len = 0;
    MOE_TRY(read(len, field.c_str()));
    if (len > maxLength)
        return fail(field + ": string length " + std::to_string(len) + " exceeds the limit " +
                    std::to_string(maxLength));
    if (len > remaining())
        return fail(field + ": string of " + std::to_string(len) + " bytes runs past the end");
    s.assign(reinterpret_cast<const char*>(m_data + m_pos), len);
    m_pos += len;
    return Status::ok();
}

Status GgufParser::readValue(MetaValue& v, ValueType type, const std::string& key, int depth) {
    v.type = type;
    switch (type) {
    case ValueType::UInt8: { uint8_t x{}; MOE_TRY(read(x, key.c_str())); v.u = x; return Status::ok(); }
    case ValueType::Int8: { int8_t x{}; MOE_TRY(read(x, key.c_str())); v.i = x; return Status::ok(); }
    case ValueType::UInt16: { uint16_t x{}; MOE_TRY(read(x, key.c_str())); v.u = x; return Status::ok(); }
    case ValueType::Int16: { int16_t x{}; MOE_TRY(read(x, key.c_str())); v.i = x; return Status::ok(); }
    case ValueType::UInt32: { uint32_t x{}; MOE_TRY(read(x, key.c_str())); v.u = x; return Status::ok(); }
    case ValueType::Int32: { int32_t x{}; MOE_TRY(read(x, key.c_str())); v.i = x; return Status::ok(); }
    case ValueType::UInt64: { uint64_t x{}; MOE_TRY(read(x, key.c_str())); v.u = x; return Status::ok(); }
    case ValueType::Int64: { int64_t x{}; MOE_TRY(read(x, key.c_str())); v.i = x; return Status::ok(); }
    case ValueType::Float32: { float x{}; MOE_TRY(read(x, key.c_str())); v.f = x; return Status::ok(); }
    case ValueType::Float64: { double x{}; MOE_TRY(read(x, key.c_str())); v.f = x; return Status::ok(); }
    case ValueType::Bool: {
        uint8_t x;
        MOE_TRY(read(x, key.c_str()));
        if (x > 1) return fail("key '" + key + "': bool value " + std::to_string(x) + " is not 0 or 1");
        v.u = x;
        return Status::ok();
    }
    case ValueType::String: return readString(v.s, kMaxStringLength, "key '" + key + "'");
    case ValueType::Array: {
        if (depth >= kMaxArrayDepth)
            return fail("key '" + key + "': arrays nested deeper than " + std::to_string(kMaxArrayDepth));
        uint32_t elem = 0;
        uint64_t count = 0;
        MOE_TRY(read(elem, key.c_str()));
        if (elem >= kValueTypeCount)
            return fail("key '" + key + "': unknown array element type " + std::to_string(elem));
        MOE_TRY(read(count, key.c_str()));
        ValueType et = ValueType(elem);
        // Each element takes at least this many bytes (a string its u64 length, an array its
        // type and count): a count the rest of the file cannot hold is rejected before sizing.
        uint64_t minElem = valueTypeSize(et);
        if (et == ValueType::String) minElem = 8;
        if (et == ValueType::Array) minElem = 12;
        if (count > remaining() / minElem)
            return fail("key '" + key + "': array of " + std::to_string(count) + " " +
                        valueTypeName(et) + " elements cannot fit in the remaining " +
                        std::to_string(remaining()) + " bytes");
        v.elemType = et;
        v.items.resize(count);
        for (uint64_t k = 0; k < count; ++k) MOE_TRY(readValue(v.items[k], et, key, depth + 1));
        return Status::ok();
    }
    }
    return fail("key '" + key + "': unknown value type " + std::to_string(uint32_t(type)));
}

Status GgufParser::parse() {
    uint32_t magic = 0;
    MOE_TRY(read(magic, "magic"));
    if (magic != kMagic) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "0x%08x", magic);
        return Status(StatusCode::CorruptFile,
                      m_out.path() + ": not a GGUF file (magic " + buf + ", expected 'GGUF')");
    }
    MOE_TRY(read(m_out.m_version, "version"));
    if (m_out.m_version == 1)
        return Status(StatusCode::Unsupported, m_out.path() + ": GGUF version 1 is not supported "
                                                              "(re-convert the model to v3)");
    if (m_out.m_version != 2 && m_out.m_version != 3) {
        std::string hint = (m_out.m_version & 0xffff) == 0 ? " (a big-endian file?)" : "";
        return Status(StatusCode::Unsupported, m_out.path() + ": GGUF version " +
                                                   std::to_string(m_out.m_version) +
                                                   " is not supported (expected 2 or 3)" + hint);
    }
    uint64_t nTensors = 0, nKv = 0;
    MOE_TRY(read(nTensors, "tensor_count"));
    MOE_TRY(read(nKv, "metadata_kv_count"));
    // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at
    // least 8 + 4 + 8 + 4 + 8 bytes.
    if (nKv > remaining() / 13)
        return fail("metadata_kv_count " + std::to_string(nKv) + " is more than the rest of the file can hold (truncated or corrupt file?)");
    if (nTensors > remaining() / 32)
        return fail("tensor_count " + std::to_string(nTensors) + " is more than the rest of the file can hold (truncated or corrupt file?)");

    m_out.m_meta.reserve(nKv);
    for (uint64_t k = 0; k < nKv; ++k) {
        MetaEntry e;
        MOE_TRY(readString(e.key, kMaxKeyLength, "metadata key #" + std::to_string(k)));
        uint32_t type = 0;
        MOE_TRY(read(type, "metadata value type"));
        if (type >= kValueTypeCount)
            return fail("key '" + e.key + "': unknown value type " + std::to_string(type));
        MOE_TRY(readValue(e.value, ValueType(type), e.key, 0));
        if (!m_out.m_metaIndex.emplace(e.key, m_out.m_meta.size()).second)
            return fail("metadata key '" + e.key + "' appears twice");
        m_out.m_meta.push_back(std::move(e));
    }

    if (const MetaValue* a = m_out.find("general.alignment")) {
        auto v = a->asInt();
        if (!v || *v <= 0 || *v % 8 != 0 || *v > (1 << 20))
            return Status(StatusCode::CorruptFile,
                          m_out.path() + ": general.alignment " + a->display() +
                              " is invalid (expected a positive multiple of 8)");
        m_out.m_alignment = uint32_t(*v);
    }

    m_out.m_tensors.reserve(nTensors);
    for (uint64_t k = 0; k < nTensors; ++k) {
        TensorEntry t;
        MOE_TRY(readString(t.name, kMaxTensorNameLength, "tensor name #" + std::to_string(k)));
        uint32_t nDims = 0;
        MOE_TRY(read(nDims, "tensor n_dims"));
        if (nDims == 0 || nDims > kMaxDims)
            return fail("tensor '" + t.name + "': n_dims " + std::to_string(nDims) +
                        " (expected 1 to 4)");
        t.ne.resize(nDims);
        uint64_t elements = 1;
        for (uint32_t d = 0; d < nDims; ++d) {
            MOE_TRY(read(t.ne[d], "tensor ne"));
            if (t.ne[d] > 0 && elements > (uint64_t(1) << 62) / t.ne[d])
                return fail("tensor '" + t.name + "': shape overflows 2^62 elements");
            elements *= t.ne[d];
        }
        t.elements = elements;
        MOE_TRY(read(t.type, "tensor type"));
        auto traits = typeTraits(t.type);
        if (!traits)
            return Status(StatusCode::Unsupported,
                          m_out.path() + ": tensor '" + t.name + "' has unknown ggml type " +
                              std::to_string(t.type));
        if (t.ne[0] % traits->blockSize != 0)
            return fail("tensor '" + t.name + "': row length " + std::to_string(t.ne[0]) +
                        " is not a multiple of the " + traits->name + " block size " +
                        std::to_string(traits->blockSize));
        t.bytes = elements / traits->blockSize * traits->typeSize;
        MOE_TRY(read(t.offset, "tensor offset"));
        if (t.offset % m_out.m_alignment != 0)
            return fail("tensor '" + t.name + "': offset " + std::to_string(t.offset) +
                        " is not a multiple of the alignment " + std::to_string(m_out.m_alignment));
        if (!m_out.m_tensorIndex.emplace(t.name, m_out.m_tensors.size()).second)
            return fail("tensor '" + t.name + "' appears twice");
        m_out.m_tensors.push_back(std::move(t));
    }

    uint64_t a = m_out.m_alignment;
    m_out.m_dataOffset = m_pos + (a - m_pos % a) % a;
    if (m_out.m_dataOffset > m_size && !m_out.m_tensors.empty())
        return Status(StatusCode::CorruptFile,
                      m_out.path() + ": the tensor data section would start at byte " +
                          std::to_string(m_out.m_dataOffset) + ", past the end of the file (" +
                          std::to_string(m_size) + " bytes; truncated file?)");
    for (const TensorEntry& t : m_out.m_tensors) {
        uint64_t avail = m_size > m_out.m_dataOffset ? m_size - m_out.m_dataOffset : 0;
        if (t.offset > avail || t.bytes > avail - t.offset)
            return Status(StatusCode::CorruptFile,
                          m_out.path() + ": tensor '" + t.name + "' (" + typeName(t.type) + ", " +
                              std::to_string(t.bytes) + " bytes at data offset " +
                              std::to_string(t.offset) + ") ends at byte " +
                              std::to_string(m_out.m_dataOffset + t.offset + t.bytes) +
                              ", past the end of the file (" + std::to_string(m_size) +
                              " bytes; truncated file?)");
    }
    return Status::ok();
}

Result<GgufFile> GgufFile::open(const std::string& path) {
    GgufFile f;
    MOE_ASSIGN_OR_RETURN(f.m_file, MappedFile::open(path));
    GgufParser parser(f);
    MOE_TRY(parser.parse());
    return f;
}

const MetaValue* GgufFile::find(std::string_view key) const {
    auto it = m_metaIndex.find(std::string(key));
    return it == m_metaIndex.end() ? nullptr : &m_meta[it->second].value;
}

const TensorEntry* GgufFile::tensor(std::string_view name) const {
    auto it = m_tensorIndex.find(std::string(name));
    return it == m_tensorIndex.end() ? nullptr : &m_tensors[it->second];
}

Result<int64_t> GgufFile::getInt(std::string_view key) const {
    const MetaValue* v = find(key);
    if (!v) return Status(StatusCode::NotFound, path() + ": metadata key '" + std::string(key) + "' is missing");
    auto i = v->asInt();
    if (!i)
        return Status(StatusCode::CorruptFile, path() + ": metadata key '" + std::string(key) +
                                                   "' is " + valueTypeName(v->type) +
                                                   ", expected an integer");
    return *i;
}

int64_t GgufFile::getInt(std::string_view key, int64_t fallback) const {
    const MetaValue* v = find(key);
    auto i = v ? v->asInt() : std::nullopt;
    return i ? *i : fallback;
}

Result<double> GgufFile::getNumber(std::string_view key) const {
    const MetaValue* v = find(key);
    if (!v) return Status(StatusCode::NotFound, path() + ": metadata key '" + std::string(key) + "' is missing");
    auto d = v->asNumber();
    if (!d)
        return Status(StatusCode::CorruptFile, path() + ": metadata key '" + std::string(key) +
                                                   "' is " + valueTypeName(v->type) +
                                                   ", expected a number");
    return *d;
}

double GgufFile::getNumber(std::string_view key, double fallback) const {
    const MetaValue* v = find(key);
    auto d = v ? v->asNumber() : std::nullopt;
    return d ? *d : fallback;
}

Result<std::string> GgufFile::getString(std::string_view key) const {
    const MetaValue* v = find(key);
    if (!v) return Status(StatusCode::NotFound, path() + ": metadata key '" + std::string(key) + "' is missing");
    if (v->type != ValueType::String)
        return Status(StatusCode::CorruptFile, path() + ": metadata key '" + std::string(key) +
                                                   "' is " + valueTypeName(v->type) +
                                                   ", expected a string");
    return v->s;
}

std::string GgufFile::getString(std::string_view key, const std::string& fallback) const {
    const MetaValue* v = find(key);
    return v && v->type == ValueType::String ? v->s : fallback;
}

std::optional<int64_t> MetaValue::asInt() const {
    switch (type) {
    case ValueType::UInt8:
    case ValueType::UInt16:
    case ValueType::UInt32:
    case ValueType::Bool: return int64_t(u);
    case ValueType::UInt64:
        if (u > uint64_t(INT64_MAX)) return std::nullopt;
        return int64_t(u);
    case ValueType::Int8:
    case ValueType::Int16:
    case ValueType::Int32:
    case ValueType::Int64: return i;
    default: return std::nullopt;
    }
}

std::optional<double> MetaValue::asNumber() const {
    if (type == ValueType::Float32 || type == ValueType::Float64) return f;
    if (type == ValueType::UInt64) return double(u);
    auto v = asInt();
    return v ? std::optional<double>(double(*v)) : std::nullopt;
}

std::string MetaValue::display(size_t maxItems) const {
    switch (type) {
    case ValueType::String: {
        std::string s2 = s.size() > 60 ? s.substr(0, 57) + "..." : s;
        for (char& c : s2)
            if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        return "\"" + s2 + "\"";
    }
    case ValueType::Bool: return u ? "true" : "false";
    case ValueType::Float32:
    case ValueType::Float64: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", f);
        return buf;
    }
    case ValueType::Array: {
        std::string out = std::string("[") + valueTypeName(elemType) + " x " +
                          std::to_string(items.size());
        if (!items.empty()) out += ":";
        for (size_t k = 0; k < items.size() && k < maxItems; ++k)
            out += (k ? ", " : " ") + items[k].display(2);
        if (items.size() > maxItems) out += ", ...";
        return out + "]";
    }
    default: {
        auto v = asInt();
        return v ? std::to_string(*v) : std::to_string(u);
    }
    }
}

} // namespace moe::gguf
