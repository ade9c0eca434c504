// Quantization for the random-model writer (random-model-arch.cpp): Q4_K and Q6_K rows by plain
// rounding on each sub-block's range (the first guess of ggml's make_qkx2_quants / make_qx_quants,
// without their 20-step scale search); every other type through quants::quantizeRow. The blocks
// are ordinary Q4_K / Q6_K blocks that every dequantizer and kernel reads; only the choice of the
// sub-block scales differs, costing ~10-20 % more RMS error on uniform random rows. Why: the
// search makes Q4_K ~20x slower than generating the values, and DeepSeek-V2-Lite has 10 B Q4_K
// weights (over an hour of search on two shared cores, minutes without).
#pragma once

#include "moe/status.h"

#include <cstdint>

namespace moe {

// src: n floats; dst: quants::rowBytes(type, n) bytes. Deterministic.
Status quantizeRowFast(uint32_t ggmlType, const float* src, void* dst, int64_t n);

} // namespace moe
