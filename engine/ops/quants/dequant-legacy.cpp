// Dequantization of the 32-element legacy blocks Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
// (model-formats.md §9.11). Element j of a block takes the low nibble of qs[j] (j < 16) or the high
// nibble of qs[j-16]; Q5 adds bit j of the little-endian u32 qh as the fifth bit.
#include "core/half.h"
#include "ops/quants/quant-blocks.h"
#include "ops/quants/quant-kernels.h"

#include <cstring>

namespace moe::quants {

namespace {

uint32_t loadQh(const uint8_t qh[4]) {
    return uint32_t(qh[0]) | uint32_t(qh[1]) << 8 | uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
}

} // namespace

void dequantQ4_0(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQk32) {
        const float d = f16ToF32(b[i].d);
        for (int j = 0; j < 16; ++j) {
            y[j] = d * float((b[i].qs[j] & 0xF) - 8);
            y[j + 16] = d * float((b[i].qs[j] >> 4) - 8);
        }
    }
}

void dequantQ4_1(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQk32) {
        const float d = f16ToF32(b[i].d), m = f16ToF32(b[i].m);
        for (int j = 0; j < 16; ++j) {
            y[j] = d * float(b[i].qs[j] & 0xF) + m;
            y[j + 16] = d * float(b[i].qs[j] >> 4) + m;
        }
    }
}

void dequantQ5_0(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQk32) {
        const float d = f16ToF32(b[i].d);
        const uint32_t h = loadQh(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int q0 = (b[i].qs[j] & 0xF) | int((h >> j) & 1) << 4;
            const int q1 = (b[i].qs[j] >> 4) | int((h >> (j + 16)) & 1) << 4;
            y[j] = d * float(q0 - 16);
            y[j + 16] = d * float(q1 - 16);
        }
    }
}

void dequantQ5_1(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQk32) {
        const float d = f16ToF32(b[i].d), m = f16ToF32(b[i].m);
        const uint32_t h = loadQh(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int q0 = (b[i].qs[j] & 0xF) | int((h >> j) & 1) << 4;
            const int q1 = (b[i].qs[j] >> 4) | int((h >> (j + 16)) & 1) << 4;
            y[j] = d * float(q0) + m;
            y[j + 16] = d * float(q1) + m;
        }
    }
}

void dequantQ8_0(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQk32) {
        const float d = f16ToF32(b[i].d);
        for (int j = 0; j < kQk32; ++j) y[j] = d * float(b[i].qs[j]);
    }
}

} // namespace moe::quants
