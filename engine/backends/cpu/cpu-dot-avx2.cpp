// AVX2 + FMA + F16C row-dot kernels (cpu-dot.h). This file alone is compiled with -mavx2 -mfma
// -mf16c (engine/backends/CMakeLists.txt), so the rest of the engine stays portable; cpu-matmul.cpp
// calls these only after __builtin_cpu_supports says the CPU has all three.
//
// The quantized kernels are ggml's AVX2 vec_dot loops (ggml-cpu/arch/x86/quants.c) on our block
// layouts: 32 weight quants expanded to 32 bytes, multiplied with 32 int8 activations by
// _mm256_maddubs_epi16 (u8 x s8 -> pairs summed into s16) and widened by _mm256_madd_epi16 (pairs
// summed into s32, multiplied by the group scale when there is one). Bounds: unsigned weight lanes
// are <= 63 and activations within [-127, 127], so a maddubs pair is at most 2*63*127 = 16002 and
// never saturates; for the signed legacy types the sign is moved onto the activation first
// (_mm256_sign_epi8) so the unsigned lane is |w| <= 16 (Q8_0: <= 128).
#include "backends/cpu/cpu-dot.h"

#include "core/half.h"
#include "ops/quants/quant-blocks.h"

#include <immintrin.h>

#include <cstring>

namespace moe::cpu {

using quants::BlockQ4_0;
using quants::BlockQ4_K;
using quants::BlockQ5_0;
using quants::BlockQ5_K;
using quants::BlockQ6_K;
using quants::BlockQ8_0;

namespace {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float halfToFloat(uint16_t h) {
    return _cvtsh_ss(h);
}

// Sum of the products of signed bytes x and y in pairs of 4 lanes, as 8 floats.
inline __m256 mulSumI8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    const __m256i dot16 = _mm256_maddubs_epi16(ax, sy);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(dot16, _mm256_set1_epi16(1)));
}

// 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
inline __m256i nibbles32(const uint8_t* p) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(b, _mm256_set1_epi8(0xF));
}

// Bit j of the little-endian u32 at p -> byte j = 0xFF when set, 0 when clear.
inline __m256i bitsToBytes32(const uint8_t* p) {
    uint32_t x32;
    std::memcpy(&x32, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(int(x32)), shuf);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

float dotF32(const void* w, const void* a, int64_t k) {
    const float* x = static_cast<const float*>(w);
    const float* y = static_cast<const float*>(a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= k; c += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(y + c), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + c + 8), _mm256_loadu_ps(y + c + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + c + 16), _mm256_loadu_ps(y + c + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + c + 24), _mm256_loadu_ps(y + c + 24), acc3);
    }
    for (; c + 8 <= k; c += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(y + c), acc0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; c < k; ++c)
        s += x[c] * y[c];
    return s;
}

template <bool kBf16> inline __m256 load8Half(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if constexpr (kBf16)
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    else
        return _mm256_cvtph_ps(h);
}

template <bool kBf16> float dotHalf(const void* w, const void* a, int64_t k) {
    const uint16_t* x = static_cast<const uint16_t*>(w);
    const float* y = static_cast<const float*>(a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= k; c += 16) {
        acc0 = _mm256_fmadd_ps(load8Half<kBf16>(x + c), _mm256_loadu_ps(y + c), acc0);
        acc1 = _mm256_fmadd_ps(load8Half<kBf16>(x + c + 8), _mm256_loadu_ps(y + c + 8), acc1);
    }
    for (; c + 8 <= k; c += 8)
        acc0 = _mm256_fmadd_ps(load8Half<kBf16>(x + c), _mm256_loadu_ps(y + c), acc0);
    float s = hsum(_mm256_add_ps(acc0, acc1));
    for (; c < k; ++c)
        s += (kBf16 ? bf16ToF32(x[c]) : halfToFloat(x[c])) * y[c];
    return s;
}

float dotQ8_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 32; ++i) {
        const __m256 d = _mm256_set1_ps(halfToFloat(x[i].d) * y[i].d);
        acc = _mm256_fmadd_ps(d, mulSumI8(load256(x[i].qs), load256(y[i].qs)), acc);
    }
    return hsum(acc);
}

float dotQ4_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 32; ++i) {
        const __m256 d = _mm256_set1_ps(halfToFloat(x[i].d) * y[i].d);
        const __m256i qx = _mm256_sub_epi8(nibbles32(x[i].qs), _mm256_set1_epi8(8));
        acc = _mm256_fmadd_ps(d, mulSumI8(qx, load256(y[i].qs)), acc);
    }
    return hsum(acc);
}

// q - 16 as a signed byte: the nibble when the fifth bit is set, nibble | 0xF0 (= nibble - 16)
// when it is clear.
float dotQ5_0(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const ActQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 32; ++i) {
        const __m256 d = _mm256_set1_ps(halfToFloat(x[i].d) * y[i].d);
        const __m256i hi =
            _mm256_andnot_si256(bitsToBytes32(x[i].qh), _mm256_set1_epi8(char(0xF0)));
        const __m256i qx = _mm256_or_si256(nibbles32(x[i].qs), hi);
        acc = _mm256_fmadd_ps(d, mulSumI8(qx, load256(y[i].qs)), acc);
    }
    return hsum(acc);
}

// Q4_K / Q5_K: per 64 elements, one 32-byte load of qs gives sub-block 2c (low nibbles) and 2c+1
// (high nibbles); Q5_K adds bit j of each qh byte as 16. The mins go through bsums (scalar).
template <bool kFifthBit, typename Block> float dotQ45K(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const ActQ8_K*>(a);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps();
    float accMin = 0;
    for (int64_t i = 0; i < k / 256; ++i) {
        uint8_t sc[8], mn[8];
        int sumMins = 0;
        for (int j = 0; j < 8; ++j) {
            quants::scaleMinK4(j, x[i].scales, sc[j], mn[j]);
            sumMins += int(mn[j]) * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        __m256i hbits = _mm256_setzero_si256();
        if constexpr (kFifthBit) hbits = load256(x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i bits = load256(x[i].qs + 32 * c);
            __m256i lo = _mm256_and_si256(bits, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            if constexpr (kFifthBit) {
                const __m256i one = _mm256_set1_epi8(1);
                lo = _mm256_or_si256(
                    lo,
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c), one), 4));
                hi = _mm256_or_si256(
                    hi, _mm256_slli_epi16(
                            _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c + 1), one), 4));
            }
            const __m256i plo = _mm256_maddubs_epi16(lo, load256(y[i].qs + 64 * c));
            const __m256i phi = _mm256_maddubs_epi16(hi, load256(y[i].qs + 64 * c + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_set1_epi16(sc[2 * c]), plo));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_set1_epi16(sc[2 * c + 1]), phi));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * halfToFloat(x[i].d)),
                              _mm256_cvtepi32_ps(sumi), acc);
        accMin += y[i].d * halfToFloat(x[i].dmin) * float(sumMins);
    }
    return hsum(acc) - accMin;
}

// Q6_K: per 128 elements, two 32-byte loads of ql and one of qh give the four 32-element groups;
// the -32 offset is taken off as 32 * sum(activation) per pair (maddubs with a constant 32).
float dotQ6_K(const void* w, const void* a, int64_t k) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const ActQ8_K*>(a);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m256i m32 = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 256; ++i) {
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = load256(x[i].ql + 64 * h);
            const __m256i ql1 = load256(x[i].ql + 64 * h + 32);
            const __m256i qh = load256(x[i].qh + 32 * h);
            __m256i q[4];
            q[0] = _mm256_and_si256(ql0, m4);
            q[1] = _mm256_and_si256(ql1, m4);
            q[2] = _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4);
            q[3] = _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4);
            for (int kk = 0; kk < 4; ++kk) {
                const __m256i high =
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * kk), m2), 4);
                const __m256i qw = _mm256_or_si256(q[kk], high);
                const __m256i q8 = load256(y[i].qs + 128 * h + 32 * kk);
                const __m256i p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(qw, q8), _mm256_maddubs_epi16(m32, q8));
                const int8_t* s = x[i].scales + 8 * h + 2 * kk;
                const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(scale, p));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * halfToFloat(x[i].d)),
                              _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

void f16ToF32Row(const uint16_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, load8Half<false>(src + i));
    for (; i < n; ++i)
        dst[i] = halfToFloat(src[i]);
}

} // namespace

const DotKernels& avx2DotKernels() {
    static const DotKernels kTable = {
        .isa = "avx2",
        .dotF32 = dotF32,
        .dotF16 = dotHalf<false>,
        .dotBF16 = dotHalf<true>,
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
