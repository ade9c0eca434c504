// Tensor storage types: the ggml type ids (as GGUF files write them) with the block geometry of
// each (elements per block, bytes per block). Every weight the engine reads has one of these.
// Source: gguf-py constants (reference/model-formats.md §9.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace moe {

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

} // namespace moe
