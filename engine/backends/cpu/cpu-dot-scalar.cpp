// Portable row-dot kernels (cpu-dot.h) and the activation quantizers both ISAs share. Each
// quantized kernel follows the block layout of ops/quants/quant-blocks.h: integer products of the
// weight's quants with the activation's int8 quants summed per scale group, then one float
// multiply per group (ggml's ggml_vec_dot_*_q8_* reference loops, without the fp16 activation
// scale). The AVX2 kernels compute the same integer sums, so the two differ only in float rounding.
#include "backends/cpu/cpu-dot.h"

#include "core/half.h"
#include "ops/quants/quant-blocks.h"

#include <cmath>
#include <cstring>

namespace moe::cpu {

using quants::BlockQ4_0;
using quants::BlockQ4_K;
using quants::BlockQ5_0;
using quants::BlockQ5_K;
using quants::BlockQ6_K;
using quants::BlockQ8_0;

namespace {

// d = amax / 127; q = round(x / d); an all-zero block gets d = 0 and zero quants.
float quantizeBlock(const float* x, int8_t* q, int n) {
    float amax = 0;
    for (int j = 0; j < n; ++j)
        amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d > 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < n; ++j) {
        const long v = std::lrint(x[j] * id);
        q[j] = int8_t(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
    return d;
}

float dotF32(const void* w, const void* a, int64_t k) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    float acc[4] = {0, 0, 0, 0};
    int64_t c = 0;
    for (; c + 4 <= k; c += 4)
        for (int j = 0; j < 4; ++j)
            acc[j] += x[c + j] * y[c + j];
    for (; c < k; ++c)
        acc[0] += x[c] * y[c];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

float dotF16(const void* w, const void* a, int64_t k) {
    const uint16_t* x = static_cast<const uint16_t*>(w);
    const float* y = static_cast<const float*>(a);
    float acc = 0;
    for (int64_t c = 0; c < k; ++c)
        acc += f16ToF32(x[c]) * y[c];
    return acc;
}

float dotBF16(const void* w, const void* a, int64_t k) {
    const uint16_t* x = static_cast<const uint16_t*>(w);
    const float* y = static_cast<const float*>(a);
    float acc = 0;
    for (int64_t c = 0; c < k; ++c)
        acc += bf16ToF32(x[c]) * y[c];
    return acc;
}

float dotQ8_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    float acc = 0;
    for (int64_t i = 0; i < k / 32; ++i) {
        int sum = 0;
        for (int j = 0; j < 32; ++j)
            sum += int(x[i].qs[j]) * int(y[i].qs[j]);
        acc += f16ToF32(x[i].d) * y[i].d * float(sum);
    }
    return acc;
}

// Element j < 16 is the low nibble of qs[j], element j + 16 its high nibble; value nibble - 8.
float dotQ4_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    float acc = 0;
    for (int64_t i = 0; i < k / 32; ++i) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) {
            sum += ((x[i].qs[j] & 0xF) - 8) * int(y[i].qs[j]);
            sum += ((x[i].qs[j] >> 4) - 8) * int(y[i].qs[j + 16]);
        }
        acc += f16ToF32(x[i].d) * y[i].d * float(sum);
    }
    return acc;
}

// Q4_0's nibbles plus bit j of the little-endian u32 qh as the fifth bit; value q - 16.
float dotQ5_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    float acc = 0;
    for (int64_t i = 0; i < k / 32; ++i) {
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, 4);
        int sum = 0;
        for (int j = 0; j < 16; ++j) {
            const int q0 = ((x[i].qs[j] & 0xF) | int((qh >> j) & 1) << 4) - 16;
            const int q1 = ((x[i].qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4) - 16;
            sum += q0 * int(y[i].qs[j]) + q1 * int(y[i].qs[j + 16]);
        }
        acc += f16ToF32(x[i].d) * y[i].d * float(sum);
    }
    return acc;
}

// Q4_K/Q5_K: element 64c + 32s + l of a super-block is nibble s of qs[32c + l] (Q5_K: plus bit
// 2c + s of qh[l] as the fifth bit), in sub-block j = 2c + s with value d*sc_j*q - dmin*mn_j.
// The min term over a sub-block is dmin*mn_j*sum(a) = dmin*mn_j*d_a*(bsums[2j] + bsums[2j+1]).
template <bool kFifthBit, typename Block> float dotQ45K(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const ActQ8_K*>(a);
    float acc = 0;
    for (int64_t i = 0; i < k / 256; ++i) {
        int sumScaled = 0, sumMins = 0;
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, mn;
            quants::scaleMinK4(j, x[i].scales, sc, mn);
            const uint8_t* q = x[i].qs + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            const int8_t* q8 = y[i].qs + 32 * j;
            int sum = 0;
            for (int l = 0; l < 32; ++l) {
                int v = (q[l] >> shift) & 0xF;
                if constexpr (kFifthBit) v |= ((x[i].qh[l] >> j) & 1) << 4;
                sum += v * int(q8[l]);
            }
            sumScaled += int(sc) * sum;
            sumMins += int(mn) * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        acc +=
            y[i].d * (f16ToF32(x[i].d) * float(sumScaled) - f16ToF32(x[i].dmin) * float(sumMins));
    }
    return acc;
}

// Q6_K: element 128h + 32k + l is nibble k/2 of ql[64h + 32(k%2) + l] with 2 high bits at shift 2k
// of qh[32h + l], minus 32, scaled by scales[8h + 2k + l/16].
float dotQ6_K(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const ActQ8_K*>(a);
    float acc = 0;
    for (int64_t i = 0; i < k / 256; ++i) {
        int sumScaled = 0;
        for (int h = 0; h < 2; ++h) {
            for (int kk = 0; kk < 4; ++kk) {
                const uint8_t* ql = x[i].ql + 64 * h + 32 * (kk % 2);
                const uint8_t* qh = x[i].qh + 32 * h;
                const int8_t* q8 = y[i].qs + 128 * h + 32 * kk;
                for (int half = 0; half < 2; ++half) {
                    int sum = 0;
                    for (int l = 16 * half; l < 16 * half + 16; ++l) {
                        const int lo = (kk < 2 ? ql[l] : ql[l] >> 4) & 0xF;
                        const int hi = (qh[l] >> (2 * kk)) & 3;
                        sum += ((lo | hi << 4) - 32) * int(q8[l]);
                    }
                    sumScaled += int(x[i].scales[8 * h + 2 * kk + half]) * sum;
                }
            }
        }
        acc += y[i].d * f16ToF32(x[i].d) * float(sumScaled);
    }
    return acc;
}

void f16ToF32Row(const uint16_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        dst[i] = f16ToF32(src[i]);
}

} // namespace

void quantizeActQ8_0(const float* x, ActQ8_0* y, int64_t n) {
    for (int64_t i = 0; i < n / 32; ++i)
        y[i].d = quantizeBlock(x + 32 * i, y[i].qs, 32);
}

void quantizeActQ8_K(const float* x, ActQ8_K* y, int64_t n) {
    for (int64_t i = 0; i < n / 256; ++i) {
        y[i].d = quantizeBlock(x + 256 * i, y[i].qs, 256);
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int l = 0; l < 16; ++l)
                sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = int16_t(sum);
        }
    }
}

const DotKernels& scalarDotKernels() {
    static const DotKernels kTable = {
        .isa = "scalar",
        .dotF32 = dotF32,
        .dotF16 = dotF16,
        .dotBF16 = dotBF16,
        .dotQ8_0 = dotQ8_0,
        .dotQ4_0 = dotQ4_0,
        .dotQ5_0 = dotQ5_0,
        .dotQ4_K = dotQ45K<false, BlockQ4_K>,
        .dotQ5_K = dotQ45K<true, BlockQ5_K>,
        .dotQ6_K = dotQ6_K,
        .f16ToF32Row = f16ToF32Row,
    };
    return kTable;
}

} // namespace moe::cpu
