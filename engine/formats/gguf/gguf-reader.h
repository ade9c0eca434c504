// GGUF reader (v2, v3): parses the header, typed metadata and tensor infos of a memory-mapped
// file and checks every size, count and offset against the file before allocating anything.
// Tensor data stays in the mapping; tensorData() points into it. Layout: model-formats.md §9.1.
#pragma once

#include "core/mapped-file.h"
#include "formats/gguf/gguf-types.h"
#include "moe/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moe::gguf {

struct MetaValue {
    ValueType type = ValueType::UInt8;
    uint64_t u = 0; // unsigned integers and bool
    int64_t i = 0;  // signed integers
    double f = 0;   // floats
    std::string s;  // strings
    ValueType elemType = ValueType::UInt8; // arrays
    std::vector<MetaValue> items;          // arrays

    // Any integer type (or bool) as int64 if it fits; nullopt otherwise.
    std::optional<int64_t> asInt() const;
    // Any integer or float type as double.
    std::optional<double> asNumber() const;
    // Short human form: 42, 1e-05, "llama", [u32 x 3: 1, 2, 3].
    std::string display(size_t maxItems = 6) const;
};

struct MetaEntry {
    std::string key;
    MetaValue value;
};

struct TensorEntry {
    std::string name;
    std::vector<uint64_t> ne; // ggml order: ne[0] is the fastest-varying dimension
    uint32_t type = 0;        // ggml type id
    uint64_t offset = 0;      // relative to the data section
    uint64_t bytes = 0;
    uint64_t elements = 0;
};

class GgufFile {
public:
    static Result<GgufFile> open(const std::string& path);

    const std::string& path() const { return m_file.path(); }
    uint32_t version() const { return m_version; }
    uint32_t alignment() const { return m_alignment; }
    uint64_t dataOffset() const { return m_dataOffset; }
    uint64_t fileSize() const { return m_file.size(); }

    const std::vector<MetaEntry>& metadata() const { return m_meta; }
    const MetaValue* find(std::string_view key) const;
    const std::vector<TensorEntry>& tensors() const { return m_tensors; }
    const TensorEntry* tensor(std::string_view name) const;
    const uint8_t* tensorData(const TensorEntry& t) const {
        return m_file.data() + m_dataOffset + t.offset;
    }

    // Typed getters whose errors name the file and the key.
    Result<int64_t> getInt(std::string_view key) const;
    int64_t getInt(std::string_view key, int64_t fallback) const;
    Result<double> getNumber(std::string_view key) const;
    double getNumber(std::string_view key, double fallback) const;
    Result<std::string> getString(std::string_view key) const;
    std::string getString(std::string_view key, const std::string& fallback) const;

private:
    MappedFile m_file;
    uint32_t m_version = 0;
    uint32_t m_alignment = kDefaultAlignment;
    uint64_t m_dataOffset = 0;
    std::vector<MetaEntry> m_meta;
    std::vector<TensorEntry> m_tensors;
    std::unordered_map<std::string, size_t> m_metaIndex;
    std::unordered_map<std::string, size_t> m_tensorIndex;

    friend class GgufParser;
};

} // namespace moe::gguf
