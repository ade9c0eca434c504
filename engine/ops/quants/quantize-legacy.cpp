// Reference quantizers of the 32-element legacy blocks (ggml quantize_row_q*_ref semantics):
// Q4_0/Q5_0/Q8_0 are symmetric with the scale taken from the largest-magnitude value (sign kept
// for Q4_0/Q5_0, so that value lands exactly on level -8/-16); Q4_1/Q5_1 are affine over
// [min, max]. The scale is computed in f32 and stored as fp16, as ggml does.
#include "core/half.h"
#include "ops/quants/quant-blocks.h"
#include "ops/quants/quant-kernels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace moe::quants {

namespace {

void storeQh(uint8_t qh[4], uint32_t h) {
    for (int k = 0; k < 4; ++k) qh[k] = uint8_t(h >> (8 * k));
}

// The signed value of largest magnitude (first one on ties).
float signedAbsMax(const float* x) {
    float amax = 0, max = 0;
    for (int j = 0; j < kQk32; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    return max;
}

} // namespace

void quantQ4_0(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ4_0*>(dst);
    for (int64_t i = 0; i < nb; ++i, x += kQk32) {
        const float d = signedAbsMax(x) / -8;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = f32ToF16(d);
        for (int j = 0; j < 16; ++j) {
            const int q0 = std::min(15, int(x[j] * id + 8.5f));
            const int q1 = std::min(15, int(x[j + 16] * id + 8.5f));
            b[i].qs[j] = uint8_t(q0 | q1 << 4);
        }
    }
}

void quantQ4_1(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ4_1*>(dst);
    for (int64_t i = 0; i < nb; ++i, x += kQk32) {
        const float min = *std::min_element(x, x + kQk32), max = *std::max_element(x, x + kQk32);
        const float d = (max - min) / 15;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = f32ToF16(d);
        b[i].m = f32ToF16(min);
        for (int j = 0; j < 16; ++j) {
            const int q0 = std::min(15, int((x[j] - min) * id + 0.5f));
            const int q1 = std::min(15, int((x[j + 16] - min) * id + 0.5f));
            b[i].qs[j] = uint8_t(q0 | q1 << 4);
        }
    }
}

void quantQ5_0(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ5_0*>(dst);
    for (int64_t i = 0; i < nb; ++i, x += kQk32) {
        const float d = signedAbsMax(x) / -16;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = f32ToF16(d);
        uint32_t h = 0;
        for (int j = 0; j < 16; ++j) {
            const int q0 = std::min(31, int(x[j] * id + 16.5f));
            const int q1 = std::min(31, int(x[j + 16] * id + 16.5f));
            b[i].qs[j] = uint8_t((q0 & 0xF) | (q1 & 0xF) << 4);
            h |= uint32_t(q0 >> 4) << j;
            h |= uint32_t(q1 >> 4) << (j + 16);
        }
        storeQh(b[i].qh, h);
    }
}

void quantQ5_1(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ5_1*>(dst);
    for (int64_t i = 0; i < nb; ++i, x += kQk32) {
        const float min = *std::min_element(x, x + kQk32), max = *std::max_element(x, x + kQk32);
        const float d = (max - min) / 31;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = f32ToF16(d);
        b[i].m = f32ToF16(min);
        uint32_t h = 0;
        for (int j = 0; j < 16; ++j) {
            const int q0 = std::min(31, int((x[j] - min) * id + 0.5f));
            const int q1 = std::min(31, int((x[j + 16] - min) * id + 0.5f));
            b[i].qs[j] = uint8_t((q0 & 0xF) | (q1 & 0xF) << 4);
            h |= uint32_t(q0 >> 4) << j;
            h |= uint32_t(q1 >> 4) << (j + 16);
        }
        storeQh(b[i].qh, h);
    }
}

void quantQ8_0(const float* x, void* dst, int64_t nb) {
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < nb; ++i, x += kQk32) {
        float amax = 0;
        for (int j = 0; j < kQk32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = f32ToF16(d);
        for (int j = 0; j < kQk32; ++j) b[i].qs[j] = int8_t(std::lround(x[j] * id));
    }
}

} // namespace moe::quants
