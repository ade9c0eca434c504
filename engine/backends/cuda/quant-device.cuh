// Device-side weight reads: WeightRead<T>::get8(row, e0, cols, out) writes the 8 float32 values
// at elements e0 .. e0+7 of one weight row stored as T (e0 a multiple of 8). Quantized rows are
// whole blocks (cols a multiple of the block size), so the 8 values never cross a block; float
// rows may end mid-group and read zeros past cols. The formulas are engine/ops/quants'
// (dequant-legacy.cpp, dequant-k.cpp) per element, from the block layouts of quant-blocks.h:
//   legacy (32): element j -> low nibble of qs[j] (j < 16) or high nibble of qs[j - 16]
//   Q2_K/Q3_K:  e = 128h + 32j + l -> 2 bits at shift 2j of qs[32h + l], scale 8h + 2j + l/16
//   Q4_K/Q5_K:  e = 64c + 32s + l -> nibble s of qs[32c + l], sub-block 2c + s
//   Q6_K:       e = 128h + 32k + l -> nibble k/2 of ql[64h + 32(k%2) + l], 2 bits of qh[32h + l]
#pragma once

#include "backends/cuda/cuda-kernels.h"
#include "ops/quants/quant-blocks.h"

#include <cuda_fp16.h>

namespace moe::cuda {

__device__ __forceinline__ float halfBits(uint16_t h) {
    return __half2float(__ushort_as_half(h));
}
__device__ __forceinline__ float bf16Bits(uint16_t h) {
    return __uint_as_float(uint32_t(h) << 16);
}
__device__ __forceinline__ uint16_t loadU16(const uint8_t* p) {
    return uint16_t(p[0] | (uint16_t(p[1]) << 8));
}

template <DevType T> struct WeightRead;

template <> struct WeightRead<DevType::F32> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t cols, float* o) {
        const float* r = reinterpret_cast<const float*>(row);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = e0 + i < cols ? r[e0 + i] : 0.0f;
    }
};
template <> struct WeightRead<DevType::F16> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t cols, float* o) {
        const uint16_t* r = reinterpret_cast<const uint16_t*>(row);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = e0 + i < cols ? halfBits(r[e0 + i]) : 0.0f;
    }
};
template <> struct WeightRead<DevType::BF16> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t cols, float* o) {
        const uint16_t* r = reinterpret_cast<const uint16_t*>(row);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = e0 + i < cols ? bf16Bits(r[e0 + i]) : 0.0f;
    }
};

// Legacy 32-element blocks: the nibble of element j (0..31) of qs.
__device__ __forceinline__ int nibble32(const uint8_t* qs, int j) {
    return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
}
__device__ __forceinline__ uint32_t loadU32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

template <> struct WeightRead<DevType::Q4_0> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ4_0*>(row) + e0 / 32;
        const int j = int(e0 % 32);
        const float d = halfBits(b->d);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = d * float(nibble32(b->qs, j + i) - 8);
    }
};
template <> struct WeightRead<DevType::Q4_1> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ4_1*>(row) + e0 / 32;
        const int j = int(e0 % 32);
        const float d = halfBits(b->d), m = halfBits(b->m);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = d * float(nibble32(b->qs, j + i)) + m;
    }
};
template <> struct WeightRead<DevType::Q5_0> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ5_0*>(row) + e0 / 32;
        const int j = int(e0 % 32);
        const float d = halfBits(b->d);
        const uint32_t h = loadU32(b->qh);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = d * float((nibble32(b->qs, j + i) | int((h >> (j + i)) & 1) << 4) - 16);
    }
};
template <> struct WeightRead<DevType::Q5_1> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ5_1*>(row) + e0 / 32;
        const int j = int(e0 % 32);
        const float d = halfBits(b->d), m = halfBits(b->m);
        const uint32_t h = loadU32(b->qh);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = d * float(nibble32(b->qs, j + i) | int((h >> (j + i)) & 1) << 4) + m;
    }
};
template <> struct WeightRead<DevType::Q8_0> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ8_0*>(row) + e0 / 32;
        const int j = int(e0 % 32);
        const float d = halfBits(b->d);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = d * float(b->qs[j + i]);
    }
};

// get_scale_min_k4 (quant-blocks.h scaleMinK4) on the device.
__device__ __forceinline__ void scaleMinK4Dev(int j, const uint8_t* q, int& sc, int& mn) {
    if (j < 4) {
        sc = q[j] & 63;
        mn = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

template <> struct WeightRead<DevType::Q2_K> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ2_K*>(row) + e0 / 256;
        const int e = int(e0 % 256), h = e / 128, j = (e % 128) / 32, l0 = e % 32;
        const float d = halfBits(b->d), dmin = halfBits(b->dmin);
        const uint8_t sc = b->scales[8 * h + 2 * j + l0 / 16];
        const float ds = d * float(sc & 0xF), ms = dmin * float(sc >> 4);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = ds * float((b->qs[32 * h + l0 + i] >> (2 * j)) & 3) - ms;
    }
};
template <> struct WeightRead<DevType::Q3_K> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ3_K*>(row) + e0 / 256;
        const int e = int(e0 % 256), h = e / 128, j = (e % 128) / 32, l0 = e % 32;
        const int si = 8 * h + 2 * j + l0 / 16;
        const int lo = si < 8 ? (b->scales[si] & 0xF) : (b->scales[si - 8] >> 4);
        const int hi = (b->scales[8 + si % 4] >> (2 * (si / 4))) & 3;
        const float ds = halfBits(b->d) * float((lo | (hi << 4)) - 32);
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int q = (b->qs[32 * h + l0 + i] >> (2 * j)) & 3;
            const bool high = (b->hmask[l0 + i] >> (4 * h + j)) & 1;
            o[i] = ds * float(q - (high ? 0 : 4));
        }
    }
};
template <> struct WeightRead<DevType::Q4_K> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ4_K*>(row) + e0 / 256;
        const int e = int(e0 % 256), sub = e / 32, l0 = e % 32;
        int sc, mn;
        scaleMinK4Dev(sub, b->scales, sc, mn);
        const float ds = halfBits(b->d) * float(sc), ms = halfBits(b->dmin) * float(mn);
        const uint8_t* q = b->qs + 32 * (sub / 2) + l0;
        const int shift = 4 * (sub % 2);
#pragma unroll
        for (int i = 0; i < 8; ++i) o[i] = ds * float((q[i] >> shift) & 0xF) - ms;
    }
};
template <> struct WeightRead<DevType::Q5_K> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ5_K*>(row) + e0 / 256;
        const int e = int(e0 % 256), sub = e / 32, l0 = e % 32;
        int sc, mn;
        scaleMinK4Dev(sub, b->scales, sc, mn);
        const float ds = halfBits(b->d) * float(sc), ms = halfBits(b->dmin) * float(mn);
        const uint8_t* q = b->qs + 32 * (sub / 2) + l0;
        const int shift = 4 * (sub % 2);
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int v = ((q[i] >> shift) & 0xF) | ((b->qh[l0 + i] >> sub) & 1) << 4;
            o[i] = ds * float(v) - ms;
        }
    }
};
template <> struct WeightRead<DevType::Q6_K> {
    __device__ static void get8(const uint8_t* row, int64_t e0, int64_t, float* o) {
        const auto* b = reinterpret_cast<const quants::BlockQ6_K*>(row) + e0 / 256;
        const int e = int(e0 % 256), h = e / 128, k = (e % 128) / 32, l0 = e % 32;
        const float ds = halfBits(b->d) * float(b->scales[8 * h + 2 * k + l0 / 16]);
        const uint8_t* ql = b->ql + 64 * h + 32 * (k % 2) + l0;
        const uint8_t* qh = b->qh + 32 * h + l0;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int lo = (k < 2 ? ql[i] : ql[i] >> 4) & 0xF;
            const int hi = (qh[i] >> (2 * k)) & 3;
            o[i] = ds * float((lo | hi << 4) - 32);
        }
    }
};

// Calls f.template operator()<T>() for the runtime type (the kernels' one dispatch point).
template <class F> void dispatchType(DevType t, F&& f) {
    switch (t) {
    case DevType::F32: f.template operator()<DevType::F32>(); break;
    case DevType::F16: f.template operator()<DevType::F16>(); break;
    case DevType::BF16: f.template operator()<DevType::BF16>(); break;
    case DevType::Q4_0: f.template operator()<DevType::Q4_0>(); break;
    case DevType::Q4_1: f.template operator()<DevType::Q4_1>(); break;
    case DevType::Q5_0: f.template operator()<DevType::Q5_0>(); break;
    case DevType::Q5_1: f.template operator()<DevType::Q5_1>(); break;
    case DevType::Q8_0: f.template operator()<DevType::Q8_0>(); break;
    case DevType::Q2_K: f.template operator()<DevType::Q2_K>(); break;
    case DevType::Q3_K: f.template operator()<DevType::Q3_K>(); break;
    case DevType::Q4_K: f.template operator()<DevType::Q4_K>(); break;
    case DevType::Q5_K: f.template operator()<DevType::Q5_K>(); break;
    case DevType::Q6_K: f.template operator()<DevType::Q6_K>(); break;
    }
}

} // namespace moe::cuda
