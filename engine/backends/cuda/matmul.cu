// Matmul kernels that read weights in their storage type (F32/F16/BF16 rows and every ggml block
// type of quant-device.cuh), dequantized in the kernel, accumulating in float32: the same
// products as ops::matmul (engine/ops/matmul.cpp), which dequantizes each row to float32 first.
// One kernel serves a dense linear and the grouped expert projections: positions come in groups,
// each group with its own weight (an expert), and the groups that run are read from the device
// (cuda-kernels.h MatmulArgs). Two shapes:
//   mat-vec: one warp per output row; lanes walk the row 8 values at a time (a warp covers 256
//            consecutive values: one K-quant super-block), each weight read serves up to 8
//            positions. Decode and sparse expert groups.
//   tiled:   64 positions x 64 rows per block, K in steps of 32; weights dequantized into shared
//            memory once per tile, 4x4 outputs per thread. Prefill.
// headMatmul (MLA's per-head products) has its own pair: a per-head mat-vec and a per-head Wᵀ·x.
// Both fuse gate+up+SwiGLU when asked (y = silu(Wg·x) ⊙ Wu·x). F32 dense weights go to cuBLAS
// (cuda-backend.cpp), so these kernels see F32 only in expert groups.
#include "backends/cuda/cuda-kernels.h"
#include "backends/cuda/quant-device.cuh"

#include <algorithm>

namespace moe::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kMvWarps = 4; // rows per mat-vec block
constexpr int kMvPos = 8;   // positions per weight read
constexpr int kBM = 64, kBN = 64, kBK = 32;

template <DevType T> constexpr bool kFloatRows = T == DevType::F32 || T == DevType::F16 || T == DevType::BF16;

__device__ float warpSum(float v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ float silu(float g) {
    return g / (1.0f + expf(-g));
}

// The group of grid slot `slot`: its weight index and positions [p0, p1); false: nothing to do.
__device__ bool resolveGroup(const MatmulArgs& a, int slot, int& g, int& p0, int& p1) {
    if (!a.groupStart) {
        g = 0;
        p0 = 0;
        p1 = a.nPos;
        return slot == 0;
    }
    if (slot >= *a.nActive) return false;
    g = a.activeGroups[slot];
    p0 = a.groupStart[g];
    p1 = a.groupStart[g + 1];
    return p1 > p0;
}

__device__ const uint8_t* weightOf(const void* w, const void* const* table, int g) {
    return static_cast<const uint8_t*>(table ? table[g] : w);
}

template <DevType T, bool kGlu> __global__ void __launch_bounds__(kMvWarps * kWarp) matvecKernel(MatmulArgs a) {
    int g, p0, p1;
    if (!resolveGroup(a, blockIdx.y, g, p0, p1)) return;
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    const int64_t r = int64_t(blockIdx.x) * kMvWarps + warp;
    if (r >= a.rows) return;
    const uint8_t* w = weightOf(a.w, a.wTable, g) + size_t(r) * a.rowBytes;
    const uint8_t* w2 = kGlu ? weightOf(a.w2, a.w2Table, g) + size_t(r) * a.rowBytes : nullptr;
    for (int pc = p0; pc < p1; pc += kMvPos) {
        const int np = min(kMvPos, p1 - pc);
        const float* xr[kMvPos];
#pragma unroll
        for (int i = 0; i < kMvPos; ++i) {
            const int p = pc + min(i, np - 1);
            xr[i] = a.x + int64_t(a.xIndex ? a.xIndex[p] : p) * a.ldx;
        }
        float acc[kMvPos], acc2[kMvPos];
#pragma unroll
        for (int i = 0; i < kMvPos; ++i) acc[i] = acc2[i] = 0.0f;
        for (int64_t e0 = int64_t(lane) * 8; e0 < a.cols; e0 += kWarp * 8) {
            float wv[8], wv2[8];
            WeightRead<T>::get8(w, e0, a.cols, wv);
            if constexpr (kGlu) WeightRead<T>::get8(w2, e0, a.cols, wv2);
            float xv[8];
#pragma unroll
            for (int i = 0; i < kMvPos; ++i) {
                if (i >= np) break;
#pragma unroll
                for (int j = 0; j < 8; ++j) xv[j] = (!kFloatRows<T> || e0 + j < a.cols) ? xr[i][e0 + j] : 0.0f;
#pragma unroll
                for (int j = 0; j < 8; ++j) {
                    acc[i] += wv[j] * xv[j];
                    if constexpr (kGlu) acc2[i] += wv2[j] * xv[j];
                }
            }
        }
#pragma unroll
        for (int i = 0; i < kMvPos; ++i) {
            if (i >= np) break;
            const float s = warpSum(acc[i]);
            const float s2 = kGlu ? warpSum(acc2[i]) : 0.0f;
            if (lane == 0) a.y[int64_t(pc + i) * a.ldy + r] = kGlu ? silu(s) * s2 : s;
        }
    }
}

template <DevType T, bool kGlu> __global__ void __launch_bounds__(256) gemmKernel(MatmulArgs a) {
    int g, p0, p1;
    if (!resolveGroup(a, blockIdx.z, g, p0, p1)) return;
    const int pBase = p0 + int(blockIdx.y) * kBM;
    if (pBase >= p1) return;
    const int64_t rBase = int64_t(blockIdx.x) * kBN;
    __shared__ float xs[kBK][kBM + 4];
    __shared__ float ws[kBK][kBN + 4];
    __shared__ float ws2[kGlu ? kBK : 1][kBN + 4];
    const int tid = threadIdx.x;
    const int ty = tid / 16, tx = tid % 16; // outputs: positions ty*4.., rows tx*4..
    const int lrow = tid / 4, lk = (tid % 4) * 8; // loads: position / weight row lrow, k lk..lk+7
    const int lp = pBase + lrow;
    const bool pValid = lp < p1;
    const float* xrow = a.x + int64_t(pValid ? (a.xIndex ? a.xIndex[lp] : lp) : 0) * a.ldx;
    const int64_t lr = rBase + lrow;
    const bool rValid = lr < a.rows;
    const uint8_t* wrow = weightOf(a.w, a.wTable, g) + size_t(rValid ? lr : 0) * a.rowBytes;
    const uint8_t* w2row = kGlu ? weightOf(a.w2, a.w2Table, g) + size_t(rValid ? lr : 0) * a.rowBytes : nullptr;
    float acc[4][4] = {}, acc2[4][4] = {};
    for (int64_t k0 = 0; k0 < a.cols; k0 += kBK) {
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int64_t kk = k0 + lk + i;
            xs[lk + i][lrow] = pValid && kk < a.cols ? xrow[kk] : 0.0f;
        }
        float v[8];
        if (rValid && k0 + lk < a.cols) {
            WeightRead<T>::get8(wrow, k0 + lk, a.cols, v);
        } else {
#pragma unroll
            for (int i = 0; i < 8; ++i) v[i] = 0.0f;
        }
#pragma unroll
        for (int i = 0; i < 8; ++i) ws[lk + i][lrow] = v[i];
        if constexpr (kGlu) {
            if (rValid && k0 + lk < a.cols) {
                WeightRead<T>::get8(w2row, k0 + lk, a.cols, v);
            } else {
#pragma unroll
                for (int i = 0; i < 8; ++i) v[i] = 0.0f;
            }
#pragma unroll
            for (int i = 0; i < 8; ++i) ws2[lk + i][lrow] = v[i];
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < kBK; ++kk) {
            float xv[4], wv[4], wv2[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                xv[i] = xs[kk][ty * 4 + i];
                wv[i] = ws[kk][tx * 4 + i];
                if constexpr (kGlu) wv2[i] = ws2[kk][tx * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] += xv[i] * wv[j];
                    if constexpr (kGlu) acc2[i][j] += xv[i] * wv2[j];
                }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int p = pBase + ty * 4 + i;
        if (p >= p1) break;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int64_t r = rBase + tx * 4 + j;
            if (r < a.rows) a.y[int64_t(p) * a.ldy + r] = kGlu ? silu(acc[i][j]) * acc2[i][j] : acc[i][j];
        }
    }
}

// y[t, c0..c0+7] = Σ_r x[t, r] · W[r, c0..c0+7]; one thread per 8 columns of one token.
template <DevType T>
__global__ void matmulTransposedKernel(const uint8_t* w, size_t rowBytes, int64_t rows, int64_t cols, const float* x,
                                       int nTok, float* y) {
    const int64_t c0 = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * 8;
    if (c0 >= cols) return;
    for (int t = blockIdx.y; t < nTok; t += gridDim.y) {
        float acc[8] = {};
        for (int64_t r = 0; r < rows; ++r) {
            float v[8];
            WeightRead<T>::get8(w + size_t(r) * rowBytes, c0, cols, v);
            const float xv = x[int64_t(t) * rows + r];
#pragma unroll
            for (int i = 0; i < 8; ++i) acc[i] += xv * v[i];
        }
        for (int i = 0; i < 8 && c0 + i < cols; ++i) y[int64_t(t) * cols + c0 + i] = acc[i];
    }
}

// Per-head W_h·x: one warp per (output row, head), up to kMvPos tokens per weight read.
template <DevType T> __global__ void __launch_bounds__(kMvWarps * kWarp) headMatvecKernel(HeadMatmulArgs a) {
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    const int64_t r = int64_t(blockIdx.x) * kMvWarps + warp;
    const int h = blockIdx.y;
    if (r >= a.rows) return;
    const uint8_t* w = static_cast<const uint8_t*>(a.w) + size_t(h) * a.headBytes + size_t(r) * a.rowBytes;
    const float* xh = a.x + int64_t(h) * a.xHeadStride;
    float* yh = a.y + int64_t(h) * a.yHeadStride;
    for (int tc = 0; tc < a.nTok; tc += kMvPos) {
        const int nt = min(kMvPos, a.nTok - tc);
        float acc[kMvPos];
#pragma unroll
        for (int i = 0; i < kMvPos; ++i) acc[i] = 0.0f;
        for (int64_t e0 = int64_t(lane) * 8; e0 < a.cols; e0 += kWarp * 8) {
            float wv[8];
            WeightRead<T>::get8(w, e0, a.cols, wv);
#pragma unroll
            for (int i = 0; i < kMvPos; ++i) {
                if (i >= nt) break;
                const float* xr = xh + int64_t(tc + i) * a.xRowStride;
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i] += wv[j] * (e0 + j < a.cols ? xr[e0 + j] : 0.0f);
            }
        }
#pragma unroll
        for (int i = 0; i < kMvPos; ++i) {
            if (i >= nt) break;
            const float s = warpSum(acc[i]);
            if (lane == 0) yh[int64_t(tc + i) * a.yRowStride + r] = s;
        }
    }
}

// Per-head W_hᵀ·x: one thread per 8 output columns of one (head, token).
template <DevType T> __global__ void headTransposedKernel(HeadMatmulArgs a) {
    const int64_t c0 = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * 8;
    const int h = blockIdx.y;
    if (c0 >= a.cols) return;
    const uint8_t* w = static_cast<const uint8_t*>(a.w) + size_t(h) * a.headBytes;
    for (int t = blockIdx.z; t < a.nTok; t += gridDim.z) {
        const float* xr = a.x + int64_t(t) * a.xRowStride + int64_t(h) * a.xHeadStride;
        float acc[8] = {};
        for (int64_t r = 0; r < a.rows; ++r) {
            float v[8];
            WeightRead<T>::get8(w + size_t(r) * a.rowBytes, c0, a.cols, v);
            const float xv = xr[r];
#pragma unroll
            for (int i = 0; i < 8; ++i) acc[i] += xv * v[i];
        }
        float* yr = a.y + int64_t(t) * a.yRowStride + int64_t(h) * a.yHeadStride;
        for (int i = 0; i < 8 && c0 + i < a.cols; ++i) yr[c0 + i] = acc[i];
    }
}

} // namespace

void launchMatmul(const MatmulArgs& a, bool glu, cudaStream_t s) {
    if (a.nPos <= 0 || a.rows <= 0 || a.groupSlots <= 0) return;
    const int maxPer = a.groupStart ? std::max(1, std::min(a.maxPerGroup, a.nPos)) : a.nPos;
    // Few positions per weight: every weight byte read once per 8 positions by the mat-vec; more:
    // the tiled kernel reads it once per 64.
    const int perGroup = a.groupStart ? (a.nPos + a.groupSlots - 1) / a.groupSlots : a.nPos;
    const bool matvec = a.groupStart ? perGroup <= 16 : a.nPos <= kMvPos;
    dispatchType(a.type, [&]<DevType T>() {
        if (matvec) {
            const dim3 grid(unsigned((a.rows + kMvWarps - 1) / kMvWarps), unsigned(a.groupSlots));
            if (glu)
                matvecKernel<T, true><<<grid, kMvWarps * kWarp, 0, s>>>(a);
            else
                matvecKernel<T, false><<<grid, kMvWarps * kWarp, 0, s>>>(a);
        } else {
            const dim3 grid(unsigned((a.rows + kBN - 1) / kBN), unsigned((maxPer + kBM - 1) / kBM),
                            unsigned(a.groupSlots));
            if (glu)
                gemmKernel<T, true><<<grid, 256, 0, s>>>(a);
            else
                gemmKernel<T, false><<<grid, 256, 0, s>>>(a);
        }
    });
}

void launchMatmulTransposed(DevType type, const void* w, size_t rowBytes, int64_t rows, int64_t cols,
                            const float* x, int nTok, float* y, cudaStream_t s) {
    if (nTok <= 0 || cols <= 0) return;
    const int64_t groups = (cols + 7) / 8;
    const dim3 grid(unsigned((groups + 127) / 128), unsigned(std::min(nTok, 65535)));
    dispatchType(type, [&]<DevType T>() {
        matmulTransposedKernel<T><<<grid, 128, 0, s>>>(static_cast<const uint8_t*>(w), rowBytes, rows, cols, x,
                                                       nTok, y);
    });
}

} // namespace moe::cuda

namespace moe::cuda {

void launchHeadMatmul(const HeadMatmulArgs& a, cudaStream_t s) {
    if (a.nTok <= 0 || a.nHead <= 0 || a.rows <= 0 || a.cols <= 0) return;
    dispatchType(a.type, [&]<DevType T>() {
        if (a.transposed) {
            const int64_t groups = (a.cols + 7) / 8;
            const dim3 grid(unsigned((groups + 127) / 128), unsigned(a.nHead), unsigned(std::min(a.nTok, 65535)));
            headTransposedKernel<T><<<grid, 128, 0, s>>>(a);
        } else {
            const dim3 grid(unsigned((a.rows + kMvWarps - 1) / kMvWarps), unsigned(a.nHead));
            headMatvecKernel<T><<<grid, kMvWarps * kWarp, 0, s>>>(a);
        }
    });
}

} // namespace moe::cuda
