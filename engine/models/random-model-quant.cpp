// Range-rounding Q4_K / Q6_K quantizers for random models; see random-model-quant.h. The packing
// follows engine/ops/quants/quantize-k.cpp (the reference quantizers) line for line: only the
// sub-block scales come from the range instead of a search.
#include "models/random-model-quant.h"

#include "core/half.h"
#include "formats/gguf/gguf-types.h"
#include "ops/quants/quant-blocks.h"
#include "ops/quants/quants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace moe {

namespace {

using quants::kQkK;

int nearest(float x) {
    return int(std::nearbyint(x));
}

// Q4_K: sub-block j of 32 maps [min(x, 0), max(x)] onto levels 0..15 (scale = range / 15, min =
// -min(x, 0)); scales and mins are then quantized to 6 bits against the block's largest ones and
// the levels re-rounded against the stored values, as the reference does.
void quantQ4KFast(const float* x, quants::BlockQ4_K& b) {
    float scales[8], mins[8], maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float lo = xs[0], hi = xs[0];
        for (int l = 1; l < 32; ++l) {
            lo = std::min(lo, xs[l]);
            hi = std::max(hi, xs[l]);
        }
        lo = std::min(lo, 0.0f);
        scales[j] = hi > lo ? (hi - lo) / 15.0f : 0.0f;
        mins[j] = -lo;
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f,
                invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    std::memset(b.scales, 0, sizeof b.scales);
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = uint8_t(std::min(63, nearest(invScale * scales[j])));
        const uint8_t lm = uint8_t(std::min(63, nearest(invMin * mins[j])));
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
    uint8_t L[kQkK] = {};
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, mn;
        quants::scaleMinK4(j, b.scales, sc, mn);
        const float d = f16ToF32(b.d) * float(sc);
        if (d == 0) continue;
        const float dm = f16ToF32(b.dmin) * float(mn);
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = uint8_t(std::clamp(nearest((x[32 * j + l] + dm) / d), 0, 15));
    }
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l)
            b.qs[32 * c + l] = uint8_t(L[64 * c + l] | L[64 * c + 32 + l] << 4);
}

// Q6_K: sub-block j of 16 takes scale -m / 32 where m is its element of largest magnitude (so m
// lands on level -32), as make_qx_quants' first guess.
void quantQ6KFast(const float* x, quants::BlockQ6_K& b) {
    float scales[16], maxScale = 0, maxAbsScale = 0;
    for (int j = 0; j < 16; ++j) {
        float m = 0;
        for (int l = 0; l < 16; ++l)
            if (std::fabs(x[16 * j + l]) > std::fabs(m)) m = x[16 * j + l];
        scales[j] = -m / 32.0f;
        if (std::fabs(scales[j]) > maxAbsScale) {
            maxAbsScale = std::fabs(scales[j]);
            maxScale = scales[j];
        }
    }
    if (maxAbsScale < 1e-15f) {
        std::memset(&b, 0, sizeof b);
        return;
    }
    const float iscale = -128.f / maxScale;
    b.d = f32ToF16(1 / iscale);
    for (int j = 0; j < 16; ++j)
        b.scales[j] = int8_t(std::min(127, nearest(iscale * scales[j])));
    int8_t L[kQkK] = {};
    for (int j = 0; j < 16; ++j) {
        const float d = f16ToF32(b.d) * float(b.scales[j]);
        for (int l = 0; l < 16; ++l)
            L[16 * j + l] =
                int8_t(d == 0 ? 32 : std::clamp(nearest(x[16 * j + l] / d), -32, 31) + 32);
    }
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            const int8_t* e = L + 128 * h + l;
            b.ql[64 * h + l] = uint8_t((e[0] & 0xF) | (e[64] & 0xF) << 4);
            b.ql[64 * h + 32 + l] = uint8_t((e[32] & 0xF) | (e[96] & 0xF) << 4);
            b.qh[32 * h + l] =
                uint8_t((e[0] >> 4) | (e[32] >> 4) << 2 | (e[64] >> 4) << 4 | (e[96] >> 4) << 6);
        }
}

} // namespace

Status quantizeRowFast(uint32_t type, const float* src, void* dst, int64_t n) {
    const bool q4k = type == uint32_t(gguf::GgmlType::Q4_K),
               q6k = type == uint32_t(gguf::GgmlType::Q6_K);
    if ((!q4k && !q6k) || n % kQkK != 0) return quants::quantizeRow(type, src, dst, n);
    for (int64_t i = 0; i < n / kQkK; ++i) {
        if (q4k)
            quantQ4KFast(src + i * kQkK, static_cast<quants::BlockQ4_K*>(dst)[i]);
        else
            quantQ6KFast(src + i * kQkK, static_cast<quants::BlockQ6_K*>(dst)[i]);
    }
    return Status::ok();
}

} // namespace moe
