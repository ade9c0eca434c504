// GGUF value types and ggml tensor types: ids as written in files, with the block geometry of
// each tensor type (elements per block, bytes per block). Source: ggml docs/gguf.md and
// gguf-py constants (reference/model-formats.md §9.2, §9.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace moe::gguf {

constexpr uint32_t kMagic = 0x46554747; // "GGUF" read as little-endian u32
constexpr uint32_t kDefaultAlignment = 32;

enum class ValueType : uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;
const char* valueTypeName(ValueType type);
// Bytes of one scalar of this type; 0 for String and Array (variable size).
size_t valueTypeSize(ValueType type);

enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
};

struct TypeTraits {
    const char* name;
    uint32_t blockSize; // elements per block
    uint32_t typeSize;  // bytes per block
};

// Traits of a known type id, or nullopt for ids this build does not know.
std::optional<TypeTraits> typeTraits(uint32_t typeId);
std::string typeName(uint32_t typeId); // "Q4_K", or "type#99"

} // namespace moe::gguf
