// RMSNorm on CUDA, f32. Reference: engine/ops/rmsnorm.cpp (the CPU op defines the meaning).
// One block per row: the block's threads stride over the row accumulating sum(x^2), reduce it
// with warp shuffles then a 32-slot shared array, and write y = x * rsqrt(mean + eps) * w.
// Workload: n = nEmbd (1k-8k) per token, nRows = tokens in the batch; memory bound.
#include "backends/cuda/cuda-buffer.h"
#include "backends/cuda/cuda-check.h"
#include "backends/cuda/cuda-ops.h"

#include <algorithm>
#include <string>

namespace moe::cuda {
namespace {

constexpr int kRmsnormBlock = 256;   // threads per block: 8 warps
constexpr int64_t kMaxGridX = 65535; // rows beyond this loop inside the kernel
constexpr int kWarpSize = 32;

__device__ float warpSum(float v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Launch: grid (min(nRows, kMaxGridX)), block (kRmsnormBlock); blockDim.x must be a multiple of
// 32 and at most 1024. Block b handles rows b, b + gridDim.x, ...; x, y: [nRows, n]; w: [n].
__global__ void rmsnormF32Kernel(const float* __restrict__ x, const float* __restrict__ w,
                                 float* __restrict__ y, int64_t nRows, int64_t n, float eps) {
    __shared__ float warpSums[kWarpSize];
    const int lane = threadIdx.x % kWarpSize;
    const int warp = threadIdx.x / kWarpSize;
    const int nWarps = blockDim.x / kWarpSize;
    for (int64_t row = blockIdx.x; row < nRows; row += gridDim.x) {
        const float* xr = x + row * n;
        float* yr = y + row * n;
        float sum = 0.0f;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            sum += xr[i] * xr[i];
        sum = warpSum(sum);
        if (lane == 0) warpSums[warp] = sum;
        __syncthreads();
        if (warp == 0) {
            sum = lane < nWarps ? warpSums[lane] : 0.0f;
            sum = warpSum(sum);
            if (lane == 0) warpSums[0] = sum;
        }
        __syncthreads();
        const float scale = 1.0f / sqrtf(warpSums[0] / float(n) + eps);
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            yr[i] = xr[i] * scale * w[i];
        __syncthreads(); // warpSums is rewritten by the next row
    }
}

} // namespace

Status rmsnormF32(std::span<const float> x, std::span<const float> weight, std::span<float> y,
                  int64_t nRows, int64_t n, float eps) {
    if (n < 1 || nRows < 0)
        return Status(StatusCode::InvalidArgument, "cuda rmsnormF32: shape [" +
                                                       std::to_string(nRows) + ", " +
                                                       std::to_string(n) + "] is not valid");
    const size_t count = size_t(nRows) * size_t(n);
    if (x.size() != count || y.size() != count || weight.size() != size_t(n))
        return Status(StatusCode::InvalidArgument,
                      "cuda rmsnormF32: expected x and y of " + std::to_string(count) +
                          " floats and weight of " + std::to_string(n) + ", got x " +
                          std::to_string(x.size()) + ", y " + std::to_string(y.size()) +
                          ", weight " + std::to_string(weight.size()));
    if (count == 0) return Status::ok();

    DeviceBuffer dx, dw, dy;
    MOE_TRY(dx.allocate(x.size_bytes()));
    MOE_TRY(dw.allocate(weight.size_bytes()));
    MOE_TRY(dy.allocate(y.size_bytes()));
    MOE_TRY(dx.upload(x.data(), x.size_bytes()));
    MOE_TRY(dw.upload(weight.data(), weight.size_bytes()));

    const unsigned grid = unsigned(std::min(nRows, kMaxGridX));
    rmsnormF32Kernel<<<grid, kRmsnormBlock>>>(dx.as<float>(), dw.as<float>(), dy.as<float>(), nRows,
                                              n, eps);
    MOE_CUDA_CHECK(cudaGetLastError());
    MOE_CUDA_CHECK(cudaDeviceSynchronize());
    return dy.download(y.data(), y.size_bytes());
}

} // namespace moe::cuda
