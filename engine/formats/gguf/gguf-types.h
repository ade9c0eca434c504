// GGUF metadata value types (ids as written in files). Source: ggml docs/gguf.md and gguf-py
// constants (reference/model-formats.md §9.2).
#pragma once

#include "core/dtypes.h"

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

// Tensor types live in core/dtypes.h (they are the engine's dtypes); GGUF code names them here.
using moe::GgmlType;
using moe::TypeTraits;
using moe::typeName;
using moe::typeTraits;

} // namespace moe::gguf
