// Row-wise and elementwise ops of the CUDA backend: embedding (rows dequantized in the kernel),
// strided RMSNorm, bias/residual adds, SwiGLU, Qwen2-MoE's gated shared-expert add, strided and
// indexed row copies (the paged cache's gather/scatter) and RoPE. References: engine/ops
// (rmsnorm.cpp, swiglu.cpp, rope.cpp) and backends/cpu/cpu-backend.cpp. All are memory bound:
// grid-stride loops, one block per row where a row needs a reduction.
#include "backends/cuda/cuda-kernels.h"
#include "backends/cuda/quant-device.cuh"

#include <algorithm>

namespace moe::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kWarp = 32;

unsigned gridFor(int64_t n, int block = kBlock) {
    return unsigned(std::clamp<int64_t>((n + block - 1) / block, 1, 65535 * 16));
}

__device__ float warpSum(float v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum of v over the block (blockDim.x a multiple of 32); every thread gets it.
__device__ float blockSum(float v, float* scratch) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, nWarps = blockDim.x / kWarp;
    v = warpSum(v);
    __syncthreads(); // scratch may still be read from a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float s = lane < nWarps ? scratch[lane] : 0.0f;
    return warpSum(s);
}

template <DevType T>
__global__ void embedKernel(const uint8_t* table, size_t rowBytes, int64_t cols, const int32_t* ids, float* out) {
    const int t = blockIdx.x;
    const uint8_t* row = table + size_t(ids[t]) * rowBytes;
    float* o = out + int64_t(t) * cols;
    for (int64_t e0 = int64_t(threadIdx.x) * 8; e0 < cols; e0 += int64_t(blockDim.x) * 8) {
        float v[8];
        WeightRead<T>::get8(row, e0, cols, v);
        for (int i = 0; i < 8 && e0 + i < cols; ++i) o[e0 + i] = v[i];
    }
}

// One block per row; in place (x == y) allowed: each element is read and written by one thread.
__global__ void rmsnormKernel(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows,
                              int n, float eps) {
    __shared__ float scratch[kWarp];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + int64_t(r) * xStride;
        float* yr = y + int64_t(r) * yStride;
        float sum = 0.0f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) sum += xr[i] * xr[i];
        sum = blockSum(sum, scratch);
        const float scale = 1.0f / sqrtf(sum / float(n) + eps);
        for (int i = threadIdx.x; i < n; i += blockDim.x) yr[i] = xr[i] * scale * w[i];
    }
}

__global__ void addRowsKernel(float* y, const float* b, int64_t total, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
        y[i] += b[i % n];
}

__global__ void addKernel(float* y, const float* x, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        y[i] += x[i];
}

__global__ void swigluKernel(const float* gate, const float* up, float* out, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void sigmoidGateAddKernel(float* out, const float* sh, const float* x, const float* g, int64_t n) {
    __shared__ float scratch[kWarp];
    const int64_t t = blockIdx.x;
    float z = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) z += x[t * n + i] * g[i];
    z = blockSum(z, scratch);
    const float gate = 1.0f / (1.0f + expf(-z));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[t * n + i] += gate * sh[t * n + i];
}

// blockIdx.y: row (grid-strided); x: columns.
__global__ void copy2dKernel(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows,
                             int64_t cols) {
    for (int r = blockIdx.y; r < rows; r += gridDim.y)
        for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols; c += int64_t(gridDim.x) * blockDim.x)
            dst[int64_t(r) * dstStride + c] = src[int64_t(r) * srcStride + c];
}

__global__ void gatherRowsKernel(float* dst, const float* src, const int32_t* rows, int n, int64_t width) {
    for (int i = blockIdx.y; i < n; i += gridDim.y) {
        const float* s = src + int64_t(rows[i]) * width;
        for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < width; c += int64_t(gridDim.x) * blockDim.x)
            dst[int64_t(i) * width + c] = s[c];
    }
}

__global__ void scatterRowsKernel(float* dst, const float* src, const int32_t* rows, int n, int64_t width) {
    for (int i = blockIdx.y; i < n; i += gridDim.y) {
        float* d = dst + int64_t(rows[i]) * width;
        for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < width; c += int64_t(gridDim.x) * blockDim.x)
            d[c] = src[int64_t(i) * width + c];
    }
}

// One block per token; threads over (head, pair).
__global__ void ropeKernel(float* x, int64_t rowStride, int nHead, int64_t headStride, int offset, int half,
                           const int32_t* pos, const float* invFreq, float attentionFactor, bool interleaved) {
    const int t = blockIdx.x;
    const float p = float(pos[t]);
    for (int job = threadIdx.x; job < nHead * half; job += blockDim.x) {
        const int h = job / half, i = job % half;
        const float a = p * invFreq[i];
        const float c = cosf(a) * attentionFactor, s = sinf(a) * attentionFactor;
        float* v = x + int64_t(t) * rowStride + int64_t(h) * headStride + offset;
        const int ia = interleaved ? 2 * i : i;
        const int ib = interleaved ? 2 * i + 1 : i + half;
        const float x0 = v[ia], x1 = v[ib];
        v[ia] = x0 * c - x1 * s;
        v[ib] = x1 * c + x0 * s;
    }
}

dim3 rowsGrid(int64_t cols, int rows) {
    return dim3(unsigned(std::clamp<int64_t>((cols + kBlock - 1) / kBlock, 1, 1024)),
                unsigned(std::clamp(rows, 1, 65535)));
}

} // namespace

void launchEmbed(DevType type, const void* table, size_t rowBytes, int64_t cols, const int32_t* ids, int n,
                 float* out, cudaStream_t s) {
    if (n <= 0) return;
    dispatchType(type, [&]<DevType T>() {
        embedKernel<T><<<n, 128, 0, s>>>(static_cast<const uint8_t*>(table), rowBytes, cols, ids, out);
    });
}

void launchRmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows, int n,
                   float eps, cudaStream_t s) {
    if (rows <= 0 || n <= 0) return;
    rmsnormKernel<<<std::min(rows, 65535), n >= 1024 ? 512 : 128, 0, s>>>(x, xStride, w, y, yStride, rows, n, eps);
}

void launchAddRows(float* y, const float* b, int rows, int64_t n, cudaStream_t s) {
    const int64_t total = int64_t(rows) * n;
    if (total <= 0) return;
    addRowsKernel<<<gridFor(total), kBlock, 0, s>>>(y, b, total, n);
}

void launchAdd(float* y, const float* x, int64_t n, cudaStream_t s) {
    if (n <= 0) return;
    addKernel<<<gridFor(n), kBlock, 0, s>>>(y, x, n);
}

void launchSwiglu(const float* gate, const float* up, float* out, int64_t n, cudaStream_t s) {
    if (n <= 0) return;
    swigluKernel<<<gridFor(n), kBlock, 0, s>>>(gate, up, out, n);
}

void launchSigmoidGateAdd(float* out, const float* sh, const float* x, const float* g, int nTok, int64_t n,
                          cudaStream_t s) {
    if (nTok <= 0 || n <= 0) return;
    sigmoidGateAddKernel<<<nTok, kBlock, 0, s>>>(out, sh, x, g, n);
}

void launchCopy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows, int64_t cols,
                  cudaStream_t s) {
    if (rows <= 0 || cols <= 0) return;
    copy2dKernel<<<rowsGrid(cols, rows), kBlock, 0, s>>>(dst, dstStride, src, srcStride, rows, cols);
}

void launchGatherRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width, cudaStream_t s) {
    if (n <= 0 || width <= 0) return;
    gatherRowsKernel<<<rowsGrid(width, n), kBlock, 0, s>>>(dst, src, rows, n, width);
}

void launchScatterRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width, cudaStream_t s) {
    if (n <= 0 || width <= 0) return;
    scatterRowsKernel<<<rowsGrid(width, n), kBlock, 0, s>>>(dst, src, rows, n, width);
}

void launchRope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset, int nRot,
                const int32_t* pos, const float* invFreq, float attentionFactor, bool interleaved, cudaStream_t s) {
    if (nTok <= 0 || nRot < 2 || nHead <= 0) return;
    ropeKernel<<<nTok, 128, 0, s>>>(x, rowStride, nHead, headStride, offset, nRot / 2, pos, invFreq,
                                    attentionFactor, interleaved);
}

} // namespace moe::cuda
