// Quantized ggml tensor types: one row at a time to float32 and back. The engine reads weights of
// any type listed here (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K) by converting a
// row to float32 just before it is used; the quantize CLI and the random-model writer go the other
// way. Scalar reference code, bit-compatible with ggml's block layouts (model-formats.md §9.11);
// the quantizers follow ggml's reference round-to-nearest with its scale searches, without an
// importance matrix.
#pragma once

#include "moe/status.h"

#include <cstddef>
#include <cstdint>

namespace moe::quants {

// True when dequantizeRow / quantizeRow handle this ggml type id.
bool canDequantize(uint32_t ggmlType);
bool canQuantize(uint32_t ggmlType);

// Bytes of a row of n elements of this type; 0 when the type is unknown or n is not a whole
// number of blocks.
size_t rowBytes(uint32_t ggmlType, int64_t n);

// src: rowBytes(type, n) bytes of one row (or several contiguous rows); dst: n floats.
// Fails (InvalidArgument/Unsupported, naming the type) on an unknown type or a partial block.
Status dequantizeRow(uint32_t ggmlType, const void* src, float* dst, int64_t n);

// src: n floats; dst: rowBytes(type, n) bytes. Deterministic: the same input gives the same bytes.
Status quantizeRow(uint32_t ggmlType, const float* src, void* dst, int64_t n);

} // namespace moe::quants
