// Per-type block kernels behind quants.h: nb whole blocks from src to dst. Private to quants/.
#pragma once

#include <cstdint>

namespace moe::quants {

void dequantQ4_0(const void* src, float* y, int64_t nb);
void dequantQ4_1(const void* src, float* y, int64_t nb);
void dequantQ5_0(const void* src, float* y, int64_t nb);
void dequantQ5_1(const void* src, float* y, int64_t nb);
void dequantQ8_0(const void* src, float* y, int64_t nb);
void dequantQ2_K(const void* src, float* y, int64_t nb);
void dequantQ3_K(const void* src, float* y, int64_t nb);
void dequantQ4_K(const void* src, float* y, int64_t nb);
void dequantQ5_K(const void* src, float* y, int64_t nb);
void dequantQ6_K(const void* src, float* y, int64_t nb);

void quantQ4_0(const float* x, void* dst, int64_t nb);
void quantQ4_1(const float* x, void* dst, int64_t nb);
void quantQ5_0(const float* x, void* dst, int64_t nb);
void quantQ5_1(const float* x, void* dst, int64_t nb);
void quantQ8_0(const float* x, void* dst, int64_t nb);
void quantQ2_K(const float* x, void* dst, int64_t nb);
void quantQ3_K(const float* x, void* dst, int64_t nb);
void quantQ4_K(const float* x, void* dst, int64_t nb);
void quantQ5_K(const float* x, void* dst, int64_t nb);
void quantQ6_K(const float* x, void* dst, int64_t nb);

} // namespace moe::quants
