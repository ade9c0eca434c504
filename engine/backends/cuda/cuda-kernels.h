// Host-side launchers of the CUDA backend's kernels (one .cu file per op family). Every launcher
// enqueues on `stream` and returns at once: no host synchronization, no allocation. Pointers are
// device memory; shapes and meanings are the op table's (backends/backend.h), whose CPU
// implementation (backends/cpu/cpu-backend.cpp over engine/ops) each kernel reproduces. Launch
// errors are read by the caller with cudaGetLastError().
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace moe::cuda {

// Weight storage the kernels read directly (dequantized in the kernel, 8 values at a time).
enum class DevType : int { F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K };

// The DevType of a weight (ops::WeightType + ggml id); false for types the kernels lack.
bool devTypeOf(int weightType, uint32_t ggmlType, DevType& out);

// ---- elementwise.cu -----------------------------------------------------------------------
void launchEmbed(DevType type, const void* table, size_t rowBytes, int64_t cols, const int32_t* ids, int n,
                 float* out, cudaStream_t s);
void launchRmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows, int n,
                   float eps, cudaStream_t s);
void launchAddRows(float* y, const float* b, int rows, int64_t n, cudaStream_t s);
void launchAdd(float* y, const float* x, int64_t n, cudaStream_t s);
void launchSwiglu(const float* gate, const float* up, float* out, int64_t n, cudaStream_t s);
void launchSigmoidGateAdd(float* out, const float* sh, const float* x, const float* g, int nTok, int64_t n,
                          cudaStream_t s);
void launchCopy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows, int64_t cols,
                  cudaStream_t s);
void launchGatherRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width, cudaStream_t s);
void launchScatterRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width, cudaStream_t s);
void launchRope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset, int nRot,
                const int32_t* pos, const float* invFreq, float attentionFactor, bool interleaved, cudaStream_t s);

// ---- matmul.cu ----------------------------------------------------------------------------
// One matmul launch over groups of positions: position p (a row of x and y) of group g is
// multiplied by group g's weight [rows, cols] (W·x, PyTorch linear). Without groups (groupStart
// null) every position 0 .. nPos-1 uses w. With groups, positions groupStart[g] .. groupStart[g+1]
// use wTable[g], and only the groups listed in activeGroups[0 .. *nActive) run (the list and its
// length stay on the device: the router's choice never reaches the host). glu: y = silu(W·x) ⊙
// (W2·x) with W2 = w2 / w2Table[g] (gate and up fused). x row of position p: xIndex ? xIndex[p]
// : p.
struct MatmulArgs {
    DevType type = DevType::F32;
    const void* w = nullptr;
    const void* const* wTable = nullptr;
    const void* w2 = nullptr;
    const void* const* w2Table = nullptr;
    int64_t rows = 0, cols = 0;
    size_t rowBytes = 0;
    const float* x = nullptr;
    int64_t ldx = 0;
    const int32_t* xIndex = nullptr;
    float* y = nullptr;
    int64_t ldy = 0;
    int nPos = 0; // positions in all (the bound of every group's count)
    const int32_t* groupStart = nullptr;
    const int32_t* activeGroups = nullptr;
    const int32_t* nActive = nullptr;
    int groupSlots = 1; // grid bound on active groups (>= the device's *nActive)
    int maxPerGroup = 0; // grid bound on one group's positions (<= nPos)
};
// Mat-vec path (one warp per output row, up to 8 positions per weight read) when few positions
// share a weight; tiled path (64x64 tiles, weights dequantized into shared memory) otherwise.
void launchMatmul(const MatmulArgs& a, bool glu, cudaStream_t s);
// y = x W for a non-F32 weight: x [nTok, rows], y [nTok, cols].
void launchMatmulTransposed(DevType type, const void* w, size_t rowBytes, int64_t rows, int64_t cols,
                            const float* x, int nTok, float* y, cudaStream_t s);

// Per-head products (ComputeBackend::headMatmul): head h's weight starts h * headBytes after w, is
// [rows, cols], and maps x[t*xRowStride + h*xHeadStride + :] to y[t*yRowStride + h*yHeadStride + :]
// (W·x; transposed: Wᵀ·x). One launch for all heads and tokens.
struct HeadMatmulArgs {
    DevType type = DevType::F32;
    const void* w = nullptr;
    size_t rowBytes = 0, headBytes = 0;
    int64_t rows = 0, cols = 0;
    bool transposed = false;
    const float* x = nullptr;
    int64_t xRowStride = 0, xHeadStride = 0;
    float* y = nullptr;
    int64_t yRowStride = 0, yHeadStride = 0;
    int nTok = 0, nHead = 0;
};
void launchHeadMatmul(const HeadMatmulArgs& a, cudaStream_t s);

// ---- attention.cu -------------------------------------------------------------------------
struct AttentionArgs {
    const float* q = nullptr;
    const float* k = nullptr;
    const float* v = nullptr;
    float* out = nullptr;
    int nTok = 0;
    const int32_t* pos = nullptr;
    const int32_t* tables = nullptr; // null: row j is physical row j
    int tableStride = 0;
    const int32_t* seqOfToken = nullptr;
    int pageSize = 1;
    int nHead = 0, nHeadKv = 0, dk = 0, dv = 0;
    int64_t kStride = 0, vStride = 0;
    int window = 0;
    float scale = 1.0f;
};
constexpr int kAttentionMaxDv = 512; // value width the kernel holds in registers
void launchAttention(const AttentionArgs& a, cudaStream_t s);

// ---- routing.cu ---------------------------------------------------------------------------
constexpr int kRouteMaxExperts = 512;
constexpr int kRouteMaxGroups = 64;
struct RouteArgs {
    const float* logits = nullptr;
    int nTok = 0, nExpert = 0;
    bool sigmoid = false, groupByTopTwoSum = false, normalize = false;
    int nGroup = 1, topkGroup = 1, k = 1;
    float scale = 1.0f;
    const float* bias = nullptr;
    float threshold = 0.0f;
    bool renormalizeKept = false;
    int32_t* ids = nullptr;
    float* weights = nullptr;
};
void launchRoute(const RouteArgs& a, cudaStream_t s);
void launchAccumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert, int64_t* counts,
                             double* sums, cudaStream_t s);
// Sorts the slots (t * k + j) by expert on the device: groupStart [nExpert + 1], activeGroups
// [nExpert] (experts with slots, ascending) and *nActive; posOfSlot [nSlots] (its sorted
// position, -1 for a dropped slot), tokenOfPos [nSlots] (the token of each sorted position).
void launchSortByExpert(const int32_t* ids, int nSlots, int k, int nExpert, int32_t* groupStart,
                        int32_t* activeGroups, int32_t* nActive, int32_t* posOfSlot, int32_t* tokenOfPos,
                        cudaStream_t s);
// out[t] = Σ_j weights[t, j] · ySorted[posOfSlot[t, j]] (slots with posOfSlot -1 skipped).
void launchCombineExperts(const float* ySorted, const int32_t* posOfSlot, const float* weights, int nTok, int k,
                          int64_t n, float* out, cudaStream_t s);

} // namespace moe::cuda
