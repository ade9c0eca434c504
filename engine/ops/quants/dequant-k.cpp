// Dequantization of the 256-element K-quant super-blocks Q2_K, Q3_K, Q4_K, Q5_K, Q6_K
// (model-formats.md §9.11 for Q4_K/Q6_K; ggml-common.h / ggml-quants.c layouts for the others).
// Written per output element from its block coordinates, so each formula reads as the layout:
//   Q2_K/Q3_K: element e = 128h + 32j + l -> 2 bits at shift 2j of qs[32h + l], scale 8h + 2j + l/16
//              (Q3_K: high bit = bit (4h + j) of hmask[l], unset means -4)
//   Q4_K/Q5_K: element e = 64c + 32s + l -> nibble s of qs[32c + l], sub-block 2c + s
//              (Q5_K: fifth bit = bit (2c + s) of qh[l])
//   Q6_K:      element e = 128h + 32k + l -> nibble (k / 2) of ql[64h + 32(k % 2) + l], 2 bits at
//              shift 2k of qh[32h + l], scale 8h + 2k + l/16, minus 32
#include "core/half.h"
#include "ops/quants/quant-blocks.h"
#include "ops/quants/quant-kernels.h"

namespace moe::quants {

void dequantQ2_K(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ2_K*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQkK) {
        const float d = f16ToF32(b[i].d), dmin = f16ToF32(b[i].dmin);
        for (int e = 0; e < kQkK; ++e) {
            const int h = e / 128, j = (e % 128) / 32, l = e % 32;
            const uint8_t sc = b[i].scales[8 * h + 2 * j + l / 16];
            const int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            y[e] = d * float(sc & 0xF) * float(q) - dmin * float(sc >> 4);
        }
    }
}

void dequantQ3_K(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ3_K*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQkK) {
        const float d = f16ToF32(b[i].d);
        int scales[16];
        for (int j = 0; j < 16; ++j) scales[j] = scaleQ3K(j, b[i].scales);
        for (int e = 0; e < kQkK; ++e) {
            const int h = e / 128, j = (e % 128) / 32, l = e % 32;
            const int lo = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            const bool high = (b[i].hmask[l] >> (4 * h + j)) & 1;
            y[e] = d * float(scales[8 * h + 2 * j + l / 16]) * float(lo - (high ? 0 : 4));
        }
    }
}

void dequantQ4_K(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ4_K*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQkK) {
        const float d = f16ToF32(b[i].d), dmin = f16ToF32(b[i].dmin);
        for (int sub = 0; sub < 8; ++sub) {
            uint8_t sc, mn;
            scaleMinK4(sub, b[i].scales, sc, mn);
            const float ds = d * float(sc), ms = dmin * float(mn);
            const uint8_t* q = b[i].qs + 32 * (sub / 2);
            const int shift = 4 * (sub % 2);
            for (int l = 0; l < 32; ++l) y[32 * sub + l] = ds * float((q[l] >> shift) & 0xF) - ms;
        }
    }
}

void dequantQ5_K(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ5_K*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQkK) {
        const float d = f16ToF32(b[i].d), dmin = f16ToF32(b[i].dmin);
        for (int sub = 0; sub < 8; ++sub) {
            uint8_t sc, mn;
            scaleMinK4(sub, b[i].scales, sc, mn);
            const float ds = d * float(sc), ms = dmin * float(mn);
            const uint8_t* q = b[i].qs + 32 * (sub / 2);
            const int shift = 4 * (sub % 2);
            for (int l = 0; l < 32; ++l) {
                const int v = ((q[l] >> shift) & 0xF) | ((b[i].qh[l] >> sub) & 1) << 4;
                y[32 * sub + l] = ds * float(v) - ms;
            }
        }
    }
}

void dequantQ6_K(const void* src, float* y, int64_t nb) {
    const auto* b = static_cast<const BlockQ6_K*>(src);
    for (int64_t i = 0; i < nb; ++i, y += kQkK) {
        const float d = f16ToF32(b[i].d);
        for (int e = 0; e < kQkK; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const uint8_t lowByte = b[i].ql[64 * h + 32 * (k % 2) + l];
            const int lo = (k < 2 ? lowByte : lowByte >> 4) & 0xF;
            const int hi = (b[i].qh[32 * h + l] >> (2 * k)) & 3;
            const int q = (lo | hi << 4) - 32;
            y[e] = d * float(b[i].scales[8 * h + 2 * k + l / 16]) * float(q);
        }
    }
}

} // namespace moe::quants
