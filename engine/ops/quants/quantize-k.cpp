// Reference quantizers of the K-quant super-blocks (ggml quantize_row_q*_K_ref semantics, no
// importance matrix). Two levels: each sub-block gets a float scale (and min) from a scale search
// (quant-search.h), then those are quantized against the super-block scale d (and dmin) to 4, 6 or
// 8 bits, and finally every element is re-rounded against its *stored* sub-block scale, so the
// levels match what the dequantizer will reconstruct.
#include "core/half.h"
#include "ops/quants/quant-blocks.h"
#include "ops/quants/quant-kernels.h"
#include "ops/quants/quant-search.h"

#include <algorithm>
#include <cstring>

namespace moe::quants {

namespace {

// Packs 2-bit levels L[256] as Q2_K/Q3_K do: byte 32h + l holds elements 128h + 32j + l at 2j.
void pack2Bit(const uint8_t* L, uint8_t* qs) {
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            const uint8_t* e = L + 128 * h + l;
            qs[32 * h + l] = uint8_t(e[0] | e[32] << 2 | e[64] << 4 | e[96] << 6);
        }
}

// Affine sub-block scales and mins (Q4_K, Q5_K): 8 sub-blocks of 32, weights av|x| + |x| as ggml.
// Writes the 6-bit packed scales, d and dmin, and the levels L in [0, nmax].
template <typename Block>
void quantAffineK(const float* x, Block& b, uint8_t* L, int nmax, float rmin, float rdelta, int nstep) {
    float scales[8], mins[8], weights[32];
    uint8_t Laux[32];
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l) sumX2 += xs[l] * xs[l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(xs[l]);
        scales[j] = makeQkx2(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep, false);
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    std::memset(b.scales, 0, sizeof b.scales);
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = uint8_t(std::min(63, nearestInt(invScale * scales[j])));
        const uint8_t lm = uint8_t(std::min(63, nearestInt(invMin * mins[j])));
        if (j < 4) {
            b.scales[j] = ls;
            b.scales[j + 4] = lm;
        } else {
            b.scales[j + 4] = uint8_t((ls & 0xF) | (lm & 0xF) << 4);
            b.scales[j - 4] |= uint8_t((ls >> 4) << 6);
            b.scales[j] |= uint8_t((lm >> 4) << 6);
        }
    }
    b.d = f32ToF16(maxScale / 63.f);
    b.dmin = f32ToF16(maxMin / 63.f);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, mn;
        scaleMinK4(j, b.scales, sc, mn);
        const float d = f16ToF32(b.d) * float(sc);
        if (d == 0) continue;
        const float dm = f16ToF32(b.dmin) * float(mn);
        for (int l = 0; l < 32; ++l) L[32 * j + l] = uint8_t(std::clamp(nearestInt((x[32 * j + l] + dm) / d), 0, nmax));
    }
}

} // namespace

void quantQ2_K(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ2_K*>(dst);
    uint8_t L[kQkK], Laux[16];
    float weights[16], scales[16], mins[16];
    for (int64_t i = 0; i < nb; ++i, x += kQkK) {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
            scales[j] = makeQkx2(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
            maxScale = std::max(maxScale, scales[j]);
            maxMin = std::max(maxMin, mins[j]);
        }
        std::memset(b[i].scales, 0, sizeof b[i].scales);
        if (maxScale > 0)
            for (int j = 0; j < 16; ++j) b[i].scales[j] = uint8_t(nearestInt(15.f / maxScale * scales[j]));
        b[i].d = f32ToF16(maxScale > 0 ? maxScale / 15.f : 0.f);
        if (maxMin > 0)
            for (int j = 0; j < 16; ++j) b[i].scales[j] |= uint8_t(nearestInt(15.f / maxMin * mins[j]) << 4);
        b[i].dmin = f32ToF16(maxMin > 0 ? maxMin / 15.f : 0.f);
        for (int j = 0; j < 16; ++j) {
            const float d = f16ToF32(b[i].d) * float(b[i].scales[j] & 0xF);
            if (d == 0) continue;
            const float dm = f16ToF32(b[i].dmin) * float(b[i].scales[j] >> 4);
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = uint8_t(std::clamp(nearestInt((x[16 * j + l] + dm) / d), 0, 3));
        }
        pack2Bit(L, b[i].qs);
    }
}

void quantQ3_K(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ3_K*>(dst);
    int8_t L[kQkK];
    float scales[16];
    for (int64_t i = 0; i < nb; ++i, x += kQkK) {
        float maxScale = 0, amax = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = makeQ3(16, 4, x + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > amax) {
                amax = std::fabs(scales[j]);
                maxScale = scales[j];
            }
        }
        std::memset(b[i].scales, 0, sizeof b[i].scales);
        if (maxScale != 0) {
            const float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; ++j) {
                const int l = std::clamp(nearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) b[i].scales[j] = uint8_t(l & 0xF);
                else b[i].scales[j - 8] |= uint8_t((l & 0xF) << 4);
                b[i].scales[8 + j % 4] |= uint8_t((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = f32ToF16(1 / iscale);
        } else {
            b[i].d = f32ToF16(0.f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = f16ToF32(b[i].d) * float(scaleQ3K(j, b[i].scales));
            if (d == 0) continue;
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = int8_t(std::clamp(nearestInt(x[16 * j + l] / d), -4, 3) + 4);
        }
        // High bit of element e goes to bit e/32 of hmask[e % 32]; the low 2 bits are packed.
        std::memset(b[i].hmask, 0, sizeof b[i].hmask);
        uint8_t low[kQkK];
        for (int e = 0; e < kQkK; ++e) {
            if (L[e] > 3) b[i].hmask[e % 32] |= uint8_t(1 << (e / 32));
            low[e] = uint8_t(L[e] & 3);
        }
        pack2Bit(low, b[i].qs);
    }
}

void quantQ4_K(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ4_K*>(dst);
    uint8_t L[kQkK];
    for (int64_t i = 0; i < nb; ++i, x += kQkK) {
        quantAffineK(x, b[i], L, 15, -1.f, 0.1f, 20);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) b[i].qs[32 * c + l] = uint8_t(L[64 * c + l] | L[64 * c + 32 + l] << 4);
    }
}

void quantQ5_K(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ5_K*>(dst);
    uint8_t L[kQkK];
    for (int64_t i = 0; i < nb; ++i, x += kQkK) {
        quantAffineK(x, b[i], L, 31, -0.5f, 0.1f, 15);
        std::memset(b[i].qh, 0, sizeof b[i].qh);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                const int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                b[i].qs[32 * c + l] = uint8_t((l1 & 0xF) | (l2 & 0xF) << 4);
                b[i].qh[l] |= uint8_t((l1 >> 4) << (2 * c) | (l2 >> 4) << (2 * c + 1));
            }
    }
}

void quantQ6_K(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ6_K*>(dst);
    int8_t L[kQkK];
    float scales[16];
    for (int64_t i = 0; i < nb; ++i, x += kQkK) {
        float maxScale = 0, maxAbsScale = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = makeQx(16, 32, x + 16 * j, L + 16 * j, nullptr);
            if (std::fabs(scales[j]) > maxAbsScale) {
                maxAbsScale = std::fabs(scales[j]);
                maxScale = scales[j];
            }
        }
        if (maxAbsScale < 1e-15f) {
            std::memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        const float iscale = -128.f / maxScale;
        b[i].d = f32ToF16(1 / iscale);
        for (int j = 0; j < 16; ++j) b[i].scales[j] = int8_t(std::min(127, nearestInt(iscale * scales[j])));
        for (int j = 0; j < 16; ++j) {
            const float d = f16ToF32(b[i].d) * float(b[i].scales[j]);
            if (d == 0) continue;
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = int8_t(std::clamp(nearestInt(x[16 * j + l] / d), -32, 31) + 32);
        }
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
                const int8_t* e = L + 128 * h + l;
                b[i].ql[64 * h + l] = uint8_t((e[0] & 0xF) | (e[64] & 0xF) << 4);
                b[i].ql[64 * h + 32 + l] = uint8_t((e[32] & 0xF) | (e[96] & 0xF) << 4);
                b[i].qh[32 * h + l] = uint8_t((e[0] >> 4) | (e[32] >> 4) << 2 | (e[64] >> 4) << 4 | (e[96] >> 4) << 6);
            }
    }
}

} // namespace moe::quants
