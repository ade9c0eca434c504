// ggml quantized block layouts (reference/model-formats.md §9.11; ggml-common.h for the types the
// spec table leaves out: Q2_K, Q3_K, Q5_K). Each struct is the exact on-disk byte layout of one
// block, little-endian, fp16 fields kept as raw bits (uint16_t). Every block size is even, so a
// block inside a row of a 32-byte-aligned tensor is always 2-byte aligned for its fp16 fields.
#pragma once

#include <cstdint>

namespace moe::quants {

constexpr int kQk32 = 32;  // QK4_0 = QK4_1 = QK5_0 = QK5_1 = QK8_0
constexpr int kQkK = 256;  // QK_K: super-block of the K-quants
constexpr int kKScaleSize = 12;

struct BlockQ4_0 {
    uint16_t d;          // scale (fp16)
    uint8_t qs[16];      // nibbles: element j low, element j+16 high
};
struct BlockQ4_1 {
    uint16_t d, m;       // scale, min (fp16)
    uint8_t qs[16];
};
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];       // 5th bits, u32 little-endian, bit j for element j
    uint8_t qs[16];
};
struct BlockQ5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[16];
};
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
struct BlockQ2_K {
    uint8_t scales[16];  // low nibble: scale, high nibble: min, per 16 elements
    uint8_t qs[64];      // 2-bit quants
    uint16_t d, dmin;
};
struct BlockQ3_K {
    uint8_t hmask[32];   // high (3rd) bit of each quant
    uint8_t qs[64];      // low 2 bits
    uint8_t scales[12];  // 16 6-bit scales
    uint16_t d;
};
struct BlockQ4_K {
    uint16_t d, dmin;
    uint8_t scales[kKScaleSize]; // 8 6-bit (scale, min) pairs
    uint8_t qs[128];
};
struct BlockQ5_K {
    uint16_t d, dmin;
    uint8_t scales[kKScaleSize];
    uint8_t qh[32];
    uint8_t qs[128];
};
struct BlockQ6_K {
    uint8_t ql[128];     // low 4 bits
    uint8_t qh[64];      // high 2 bits
    int8_t scales[16];   // 8-bit scales per 16 elements
    uint16_t d;
};

// Byte sizes from GGML_QUANT_SIZES (core/dtypes.cpp carries the same numbers).
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// The 6-bit (scale, min) pair of sub-block j (0..7) of a Q4_K/Q5_K block (get_scale_min_k4).
inline void scaleMinK4(int j, const uint8_t* q, uint8_t& sc, uint8_t& mn) {
    if (j < 4) {
        sc = q[j] & 63;
        mn = q[j + 4] & 63;
    } else {
        sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        mn = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// The signed 6-bit scale j (0..15) of a Q3_K block: low nibble in byte j (j < 8) or the high
// nibble of byte j-8, top two bits in byte 8 + j%4 at bit 2*(j/4); stored with a +32 bias.
inline int scaleQ3K(int j, const uint8_t* s) {
    const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

} // namespace moe::quants
