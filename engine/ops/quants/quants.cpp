// Dispatch of quants.h: ggml type id -> block kernel, with the F32/F16/BF16 plain types handled
// element by element. Errors name the type and the row length.
#include "ops/quants/quants.h"

#include "core/half.h"
#include "core/dtypes.h"
#include "ops/quants/quant-kernels.h"

#include <cstring>
#include <string>

namespace moe::quants {

namespace {

using moe::GgmlType;
using DequantFn = void (*)(const void*, float*, int64_t);
using QuantFn = void (*)(const float*, void*, int64_t);

struct Kernels {
    DequantFn dequant = nullptr;
    QuantFn quant = nullptr;
};

Kernels kernelsOf(uint32_t type) {
    switch (GgmlType(type)) {
    case GgmlType::Q4_0: return {dequantQ4_0, quantQ4_0};
    case GgmlType::Q4_1: return {dequantQ4_1, quantQ4_1};
    case GgmlType::Q5_0: return {dequantQ5_0, quantQ5_0};
    case GgmlType::Q5_1: return {dequantQ5_1, quantQ5_1};
    case GgmlType::Q8_0: return {dequantQ8_0, quantQ8_0};
    case GgmlType::Q2_K: return {dequantQ2_K, quantQ2_K};
    case GgmlType::Q3_K: return {dequantQ3_K, quantQ3_K};
    case GgmlType::Q4_K: return {dequantQ4_K, quantQ4_K};
    case GgmlType::Q5_K: return {dequantQ5_K, quantQ5_K};
    case GgmlType::Q6_K: return {dequantQ6_K, quantQ6_K};
    default: return {};
    }
}

bool isPlain(uint32_t type) {
    return type == uint32_t(GgmlType::F32) || type == uint32_t(GgmlType::F16) ||
           type == uint32_t(GgmlType::BF16);
}

} // namespace

bool canDequantize(uint32_t type) { return isPlain(type) || kernelsOf(type).dequant; }
bool canQuantize(uint32_t type) { return isPlain(type) || kernelsOf(type).quant; }

namespace {

Status checkRow(uint32_t type, int64_t n, bool quantizing) {
    const bool known = quantizing ? canQuantize(type) : canDequantize(type);
    if (!known)
        return Status(StatusCode::Unsupported, std::string(quantizing ? "quantize" : "dequantize") +
                                                   ": ggml type " + typeName(type) +
                                                   " is not supported (F32, F16, BF16, Q4_0, Q4_1, "
                                                   "Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
    if (n < 0 || rowBytes(type, n) == 0)
        return Status(StatusCode::InvalidArgument,
                      std::string(quantizing ? "quantize" : "dequantize") + ": row of " + std::to_string(n) +
                          " elements is not a whole number of " + typeName(type) + " blocks (" +
                          std::to_string(typeTraits(type)->blockSize) + " elements)");
    return Status::ok();
}

} // namespace

size_t rowBytes(uint32_t type, int64_t n) {
    auto t = typeTraits(type);
    if (!t || n <= 0 || n % t->blockSize != 0) return 0;
    return size_t(n / t->blockSize) * t->typeSize;
}

Status dequantizeRow(uint32_t type, const void* src, float* dst, int64_t n) {
    MOE_TRY(checkRow(type, n, false));
    switch (GgmlType(type)) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return Status::ok();
    case GgmlType::F16:
        for (int64_t i = 0; i < n; ++i) dst[i] = f16ToF32(static_cast<const uint16_t*>(src)[i]);
        return Status::ok();
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) dst[i] = bf16ToF32(static_cast<const uint16_t*>(src)[i]);
        return Status::ok();
    default: break;
    }
    kernelsOf(type).dequant(src, dst, n / typeTraits(type)->blockSize);
    return Status::ok();
}

Status quantizeRow(uint32_t type, const float* src, void* dst, int64_t n) {
    MOE_TRY(checkRow(type, n, true));
    switch (GgmlType(type)) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return Status::ok();
    case GgmlType::F16:
        for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32ToF16(src[i]);
        return Status::ok();
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32ToBf16(src[i]);
        return Status::ok();
    default: break;
    }
    kernelsOf(type).quant(src, dst, n / typeTraits(type)->blockSize);
    return Status::ok();
}

} // namespace moe::quants
