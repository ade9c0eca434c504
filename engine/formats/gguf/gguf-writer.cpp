// GGUF v3 writer. Header, metadata and tensor infos are serialized into one buffer, then each
// tensor's bytes are produced and written with the padding the alignment asks for.
#include "formats/gguf/gguf-writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace moe::gguf {

namespace {

struct Buffer {
    std::vector<uint8_t> bytes;
    template <class T> void put(T v) {
        size_t n = bytes.size();
        bytes.resize(n + sizeof(T));
        std::memcpy(bytes.data() + n, &v, sizeof(T));
    }
    void putString(const std::string& s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
};

void putValue(Buffer& b, const MetaValue& v) {
    switch (v.type) {
    case ValueType::UInt8:
        b.put<uint8_t>(uint8_t(v.u));
        break;
    case ValueType::Int8:
        b.put<int8_t>(int8_t(v.i));
        break;
    case ValueType::UInt16:
        b.put<uint16_t>(uint16_t(v.u));
        break;
    case ValueType::Int16:
        b.put<int16_t>(int16_t(v.i));
        break;
    case ValueType::UInt32:
        b.put<uint32_t>(uint32_t(v.u));
        break;
    case ValueType::Int32:
        b.put<int32_t>(int32_t(v.i));
        break;
    case ValueType::UInt64:
        b.put<uint64_t>(v.u);
        break;
    case ValueType::Int64:
        b.put<int64_t>(v.i);
        break;
    case ValueType::Float32:
        b.put<float>(float(v.f));
        break;
    case ValueType::Float64:
        b.put<double>(v.f);
        break;
    case ValueType::Bool:
        b.put<uint8_t>(v.u ? 1 : 0);
        break;
    case ValueType::String:
        b.putString(v.s);
        break;
    case ValueType::Array:
        b.put<uint32_t>(uint32_t(v.elemType));
        b.put<uint64_t>(v.items.size());
        for (const MetaValue& item : v.items)
            putValue(b, item);
        break;
    }
}

uint64_t alignUp(uint64_t x, uint64_t a) {
    return x + (a - x % a) % a;
}

struct FileCloser {
    void operator()(FILE* f) const {
        if (f) std::fclose(f);
    }
};

} // namespace

void GgufWriter::addValue(const std::string& key, MetaValue v) {
    m_meta.push_back({key, std::move(v)});
}

namespace {

MetaValue unsignedValue(ValueType type, uint64_t v) {
    MetaValue m;
    m.type = type;
    m.u = v;
    return m;
}

MetaValue signedValue(ValueType type, int64_t v) {
    MetaValue m;
    m.type = type;
    m.i = v;
    return m;
}

MetaValue floatValue(double v) {
    MetaValue m;
    m.type = ValueType::Float32;
    m.f = v;
    return m;
}

MetaValue stringValue(const std::string& v) {
    MetaValue m;
    m.type = ValueType::String;
    m.s = v;
    return m;
}

// An array of elemType built from each item by make.
template <class T, class Make>
MetaValue arrayValue(ValueType elemType, const std::vector<T>& items, Make make) {
    MetaValue m;
    m.type = ValueType::Array;
    m.elemType = elemType;
    m.items.reserve(items.size());
    for (const T& x : items)
        m.items.push_back(make(x));
    return m;
}

} // namespace

void GgufWriter::addUInt32(const std::string& key, uint32_t v) {
    addValue(key, unsignedValue(ValueType::UInt32, v));
}
void GgufWriter::addInt32(const std::string& key, int32_t v) {
    addValue(key, signedValue(ValueType::Int32, v));
}
void GgufWriter::addUInt64(const std::string& key, uint64_t v) {
    addValue(key, unsignedValue(ValueType::UInt64, v));
}
void GgufWriter::addFloat32(const std::string& key, float v) {
    addValue(key, floatValue(v));
}
void GgufWriter::addBool(const std::string& key, bool v) {
    addValue(key, unsignedValue(ValueType::Bool, v ? 1 : 0));
}
void GgufWriter::addString(const std::string& key, const std::string& v) {
    addValue(key, stringValue(v));
}

void GgufWriter::addStringArray(const std::string& key, const std::vector<std::string>& v) {
    addValue(key, arrayValue(ValueType::String, v, stringValue));
}

void GgufWriter::addInt32Array(const std::string& key, const std::vector<int32_t>& v) {
    addValue(key, arrayValue(ValueType::Int32, v,
                             [](int32_t x) { return signedValue(ValueType::Int32, x); }));
}

void GgufWriter::addFloat32Array(const std::string& key, const std::vector<float>& v) {
    addValue(key, arrayValue(ValueType::Float32, v, [](float x) { return floatValue(x); }));
}

Status GgufWriter::addTensor(const std::string& name, std::vector<uint64_t> ne, GgmlType type,
                             Producer producer) {
    auto traits = typeTraits(uint32_t(type));
    if (!traits) return Status(StatusCode::InvalidArgument, "tensor '" + name + "': unknown type");
    if (ne.empty() || ne.size() > 4)
        return Status(StatusCode::InvalidArgument, "tensor '" + name + "': needs 1 to 4 dims");
    if (ne[0] % traits->blockSize != 0)
        return Status(StatusCode::InvalidArgument,
                      "tensor '" + name + "': row length " + std::to_string(ne[0]) +
                          " is not a multiple of the " + traits->name + " block size");
    TensorEntry t;
    t.name = name;
    t.ne = std::move(ne);
    t.type = uint32_t(type);
    t.elements = 1;
    for (uint64_t d : t.ne)
        t.elements *= d;
    t.bytes = t.elements / traits->blockSize * traits->typeSize;
    t.offset = alignUp(m_dataSize, m_alignment);
    m_dataSize = t.offset + t.bytes;
    m_tensors.push_back({std::move(t), std::move(producer)});
    return Status::ok();
}

Status GgufWriter::write(const std::string& path) const {
    Buffer head;
    head.put<uint32_t>(kMagic);
    head.put<uint32_t>(3);
    head.put<uint64_t>(m_tensors.size());
    head.put<uint64_t>(m_meta.size());
    for (const MetaEntry& e : m_meta) {
        head.putString(e.key);
        head.put<uint32_t>(uint32_t(e.value.type));
        putValue(head, e.value);
    }
    for (const PendingTensor& p : m_tensors) {
        head.putString(p.info.name);
        head.put<uint32_t>(uint32_t(p.info.ne.size()));
        for (uint64_t d : p.info.ne)
            head.put<uint64_t>(d);
        head.put<uint32_t>(p.info.type);
        head.put<uint64_t>(p.info.offset);
    }
    head.bytes.resize(alignUp(head.bytes.size(), m_alignment), 0);

    const std::string tmp = path + ".part";
    std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) return Status(StatusCode::IoError, tmp + ": cannot create: " + std::strerror(errno));
    auto writeAll = [&](const void* data, size_t n) -> Status {
        if (n && std::fwrite(data, 1, n, f.get()) != n)
            return Status(StatusCode::IoError, tmp + ": write failed: " + std::strerror(errno));
        return Status::ok();
    };
    Status st = writeAll(head.bytes.data(), head.bytes.size());
    uint64_t written = 0;
    std::vector<uint8_t> data;
    const std::vector<uint8_t> zeros(m_alignment, 0);
    for (size_t k = 0; st.isOk() && k < m_tensors.size(); ++k) {
        const PendingTensor& p = m_tensors[k];
        st = writeAll(zeros.data(), p.info.offset - written);
        if (!st.isOk()) break;
        data.assign(p.info.bytes, 0);
        st = p.producer(std::span<uint8_t>(data));
        if (!st.isOk()) break;
        st = writeAll(data.data(), data.size());
        written = p.info.offset + p.info.bytes;
    }
    if (st.isOk()) st = writeAll(zeros.data(), alignUp(written, m_alignment) - written);
    if (st.isOk() && std::fflush(f.get()) != 0)
        st = Status(StatusCode::IoError, tmp + ": flush failed: " + std::strerror(errno));
    f.reset();
    if (st.isOk() && std::rename(tmp.c_str(), path.c_str()) != 0)
        st = Status(StatusCode::IoError,
                    path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
    if (!st.isOk()) std::remove(tmp.c_str());
    return st;
}

} // namespace moe::gguf
