// Causal attention over the paged KV cache (ops::attention, engine/ops/attention.cpp): query t at
// position pos[t] attends to its sequence's rows max(0, pos - window + 1) .. pos, query head h to
// KV head h / (nHead / nHeadKv); K rows and V rows have their own widths and strides, so GQA,
// MHA with dk != dv and MLA's latent MQA (V = the first dv values of each K row) are one kernel.
// One block per (head, token), 4 warps; each warp takes every 4th key with an online softmax
// (running max, running sum, rescaled accumulator: flash-decoding's update), the warps' partial
// results are merged at the end. The query sits in shared memory, the accumulator in registers
// (dv / 32 per lane, dv <= kAttentionMaxDv). Serves prefill and decode; long-context split-K
// and tensor-core tiles are later work.
#include "backends/cuda/cuda-kernels.h"

#include <cmath>

namespace moe::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kWarps = 4;
constexpr int kPerLane = kAttentionMaxDv / kWarp;

__global__ void __launch_bounds__(kWarps * kWarp) attentionKernel(AttentionArgs a) {
    extern __shared__ float smem[];
    float* qs = smem;                 // [dk]
    float* wm = qs + a.dk;            // [kWarps] running max per warp
    float* wl = wm + kWarps;          // [kWarps] running sum per warp
    float* wo = wl + kWarps;          // [kWarps, dv]
    const int h = blockIdx.x, t = blockIdx.y;
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    const int kvh = h / (a.nHead / a.nHeadKv);
    const float* q = a.q + int64_t(t) * a.nHead * a.dk + int64_t(h) * a.dk;
    for (int d = threadIdx.x; d < a.dk; d += blockDim.x) qs[d] = q[d];
    __syncthreads();
    const int last = a.pos[t];
    const int first = a.window > 0 ? max(0, last - a.window + 1) : 0;
    const int32_t* table = a.tables ? a.tables + int64_t(a.seqOfToken[t]) * a.tableStride : nullptr;
    float m = -INFINITY, l = 0.0f;
    float o[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) o[i] = 0.0f;
    for (int j = first + warp; j <= last; j += kWarps) {
        const int64_t row = table ? int64_t(table[j / a.pageSize]) * a.pageSize + j % a.pageSize : j;
        const float* kv = a.k + row * a.kStride + int64_t(kvh) * a.dk;
        float s = 0.0f;
        for (int d = lane; d < a.dk; d += kWarp) s += qs[d] * kv[d];
        for (int off = kWarp / 2; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
        s *= a.scale;
        const float mNew = fmaxf(m, s);
        const float corr = expf(m - mNew), p = expf(s - mNew);
        l = l * corr + p;
        const float* vv = a.v + row * a.vStride + int64_t(kvh) * a.dv;
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) {
            const int d = lane + kWarp * i;
            if (d < a.dv) o[i] = o[i] * corr + p * vv[d];
        }
        m = mNew;
    }
    if (lane == 0) {
        wm[warp] = m;
        wl[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
        const int d = lane + kWarp * i;
        if (d < a.dv) wo[warp * a.dv + d] = o[i];
    }
    __syncthreads();
    float mAll = -INFINITY;
    for (int w = 0; w < kWarps; ++w) mAll = fmaxf(mAll, wm[w]);
    float lAll = 0.0f, f[kWarps];
    for (int w = 0; w < kWarps; ++w) {
        f[w] = wm[w] == -INFINITY ? 0.0f : expf(wm[w] - mAll);
        lAll += wl[w] * f[w];
    }
    const float inv = 1.0f / lAll;
    float* out = a.out + int64_t(t) * a.nHead * a.dv + int64_t(h) * a.dv;
    for (int d = threadIdx.x; d < a.dv; d += blockDim.x) {
        float acc = 0.0f;
        for (int w = 0; w < kWarps; ++w) acc += wo[w * a.dv + d] * f[w];
        out[d] = acc * inv;
    }
}

} // namespace

void launchAttention(const AttentionArgs& a, cudaStream_t s) {
    if (a.nTok <= 0 || a.nHead <= 0) return;
    const size_t smem = (size_t(a.dk) + 2 * kWarps + size_t(kWarps) * size_t(a.dv)) * sizeof(float);
    const dim3 grid(unsigned(a.nHead), unsigned(a.nTok));
    attentionKernel<<<grid, kWarps * kWarp, smem, s>>>(a);
}

} // namespace moe::cuda
