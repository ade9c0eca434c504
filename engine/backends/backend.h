// Backend entry points the engine core calls. Each backend folder implements its query (and, as
// the backends grow, its op table); a backend that was not built provides the same functions in
// its "-absent" file so the core never needs #ifdefs.
#pragma once

#include "moe/devices.h"
#include "moe/status.h"

namespace moe::backend {

// Each appends its devices to report.devices, or a reason to report.unavailable.
void queryCpu(DeviceReport& report);
void queryCuda(DeviceReport& report);
void queryVulkan(DeviceReport& report);

bool cudaBuilt();
bool vulkanBuilt();

} // namespace moe::backend

// ---------------------------------------------------------------------------------------------
// The op table. A ComputeBackend owns memory in its own address space (host memory for the CPU,
// device memory for CUDA and Vulkan) and runs the forward ops of the families on it, in issue
// order on one stream: a family's forward is a sequence of these calls and never reads backend
// memory from the host except through download(). Every op's meaning is the CPU reference of the
// same name in engine/ops; each backend's ops are tested against it. Pointers passed to ops are
// backend memory (from allocate() or resident*()); shapes are row-major, fastest dimension last.
// An op that fails (a device error) records it; the next download() or sync() returns it.
// ---------------------------------------------------------------------------------------------

#include "ops/ops.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace moe {

class ComputeBackend;

// Move-only ownership of one backend allocation.
class BackendMemory {
public:
    BackendMemory() = default;
    BackendMemory(ComputeBackend* owner, void* ptr, size_t bytes) : m_owner(owner), m_ptr(ptr), m_bytes(bytes) {}
    BackendMemory(BackendMemory&& o) noexcept;
    BackendMemory& operator=(BackendMemory&& o) noexcept;
    BackendMemory(const BackendMemory&) = delete;
    BackendMemory& operator=(const BackendMemory&) = delete;
    ~BackendMemory();
    template <class T> T* as() const { return static_cast<T*>(m_ptr); }
    void* data() const { return m_ptr; }
    size_t bytes() const { return m_bytes; }

private:
    ComputeBackend* m_owner = nullptr;
    void* m_ptr = nullptr;
    size_t m_bytes = 0;
};

// RoPE frequencies resident on the backend (ops::RopeFreqs' invFreq uploaded).
struct RopeTable {
    const float* invFreq = nullptr; // [nRot / 2]
    float attentionFactor = 1.0f;
};

// Paged cache addressing of a batch on the backend: query t of sequence seqOfToken[t] reads row j
// at physical row tables[seqOfToken[t] * tableStride + j / pageSize] * pageSize + j % pageSize.
struct PagedRows {
    const int32_t* tables = nullptr;     // [nSeq, tableStride]
    int tableStride = 0;
    const int32_t* seqOfToken = nullptr; // [nTok]
    int pageSize = 0;
};

// The experts of one MoE layer as the backend reads them (views into its weight memory).
struct ExpertSet {
    std::vector<ops::WeightView> gate, up, down; // per expert: [nFf, nEmbd], [nFf, nEmbd], [nEmbd, nFf]
    std::shared_ptr<void> backendData;           // backend-private (device pointer tables)
};

class ComputeBackend {
public:
    virtual ~ComputeBackend() = default;
    virtual std::string name() const = 0; // "cpu", "cuda:0", ...

    // Memory.
    virtual Result<BackendMemory> allocate(size_t bytes) = 0;
    virtual void release(void* ptr) = 0; // called by BackendMemory
    virtual Status upload(void* dst, const void* src, size_t bytes) = 0;   // host -> backend, ordered
    virtual Status download(void* dst, const void* src, size_t bytes) = 0; // backend -> host, waits
    virtual Status sync() = 0; // waits for every op issued; returns the first recorded error
    // A host weight view made readable by the ops (the CPU returns it as is; a GPU copies it once
    // and keeps the copy for the backend's lifetime). Vectors are float32.
    virtual Result<ops::WeightView> residentWeight(const ops::WeightView& host) = 0;
    virtual Result<const float*> residentVector(const float* host, int64_t n) = 0;
    virtual Status prepareExperts(ExpertSet& set) = 0; // after gate/up/down hold resident views

    // Forward ops (x, y: float32; ids, pos: int32; all in backend memory).
    // out[t] = table[ids[t]] as float32.
    virtual void embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) = 0;
    // y[r] = rmsnorm(x[r]) * w over n values; rows r at x + r * xStride, y + r * yStride.
    virtual void rmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows,
                         int n, float eps) = 0;
    // y = x Wᵀ (ops::matmul): x [nTok, W.cols], y [nTok, W.rows].
    virtual void matmul(const float* x, int nTok, const ops::WeightView& w, float* y) = 0;
    // y = x W: x [nTok, W.rows], y [nTok, W.cols].
    virtual void matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) = 0;
    // Per-head products over equally spaced row views of one tensor (MLA's absorbed Wk_b / Wv_b):
    // for head h < nHead and token t < nTok, with W_h = head0 shifted down by h * headRowOffset rows,
    //   y[t*yRowStride + h*yHeadStride + :] = W_h · x[t*xRowStride + h*xHeadStride + :]
    // (transposed: W_hᵀ · x). Strides in floats. The default (backend-defaults.cpp) runs it as
    // copy2d + matmul per head through a scratch allocation; a backend may do it in one launch.
    virtual void headMatmul(const float* x, int64_t xRowStride, int64_t xHeadStride, int nTok, int nHead,
                            const ops::WeightView& head0, int64_t headRowOffset, bool transposed, float* y,
                            int64_t yRowStride, int64_t yHeadStride);
    // y[r, i] += b[i] for r < rows, i < n.
    virtual void addRows(float* y, const float* b, int rows, int64_t n) = 0;
    // y[i] += x[i].
    virtual void add(float* y, const float* x, int64_t n) = 0;
    // out[i] = silu(gate[i]) * up[i] (in place allowed).
    virtual void swiglu(const float* gate, const float* up, float* out, int64_t n) = 0;
    // out[t] += sigmoid(x[t] · g) * s[t], rows of n (Qwen2-MoE's gated shared expert).
    virtual void sigmoidGateAdd(float* out, const float* s, const float* x, const float* g, int nTok, int64_t n) = 0;
    // dst[r, 0..cols) = src[r, 0..cols), rows at the given strides (floats).
    virtual void copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows,
                        int64_t cols) = 0;
    // dst[i] = src[rows[i]] for i < n, rows of width floats.
    virtual void gatherRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) = 0;
    // dst[rows[i]] = src[i] (the cache write), rows of width floats.
    virtual void scatterRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) = 0;
    // ops::ropeApply.
    virtual void rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset, int nRot,
                      const int32_t* pos, const RopeTable& freqs, bool interleaved) = 0;
    // ops::attention over paged rows.
    virtual void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
                           const int32_t* pos, const PagedRows& rows, const ops::AttentionShape& shape,
                           float scale) = 0;
    // ops::route (params.bias in backend memory); then, when threshold > 0, the expert policy's
    // cumulative-weight cut (moe/expert-policy.h): dropped slots get id -1 and weight 0.
    virtual void route(const float* logits, int nTok, int nExpert, const ops::RouterParams& params,
                       float threshold, bool renormalizeKept, int32_t* ids, float* weights) = 0;
    // out[t] = Σ_j weights[t, j] · down_e(silu(gate_e · x[t]) ⊙ up_e · x[t]), e = ids[t, j] (>= 0).
    virtual void moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights, int k,
                            const ExpertSet& experts, float* out) = 0;
    // counts[e] += #slots routed to e, sums[e] += their weights (a layer's statistics).
    virtual void accumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert,
                                   int64_t* counts, double* sums) = 0;
};

// The host backend: the ops on host memory over a ThreadPool (nThreads <= 0: all cores), matmul
// by the optimized CPU kernels (backends/cpu/cpu-matmul.h), the rest by the engine/ops references.
std::unique_ptr<ComputeBackend> makeCpuBackend(int nThreads);

// The Vulkan backend on physical device `device` (queryVulkan's index): the ops as compute shaders,
// batched into one submission per download()/sync() (backends/vulkan/vulkan-backend.h).
// Unsupported when Vulkan was not built; NotFound for a bad index; DeviceError otherwise.
Result<std::unique_ptr<ComputeBackend>> makeVulkanBackend(int device);

// The CUDA backend on GPU `device` (backends/cuda/cuda-backend.h): one stream, weights copied
// once, quantized blocks read by the kernels. Unsupported in a build without CUDA; NotFound or
// DeviceError (naming the runtime's reason) when the device cannot be used.
Result<std::unique_ptr<ComputeBackend>> makeCudaBackend(int device);

// A public device name ("cpu", "cuda", "cuda:N", "vulkan", "vulkan:N", "auto") as
// "cpu" / "cuda:N" / "vulkan:N" for a device that is present; errors name what is missing.
Result<std::string> resolveDevice(const std::string& requested);
// The compute backend of a resolved device name (nThreads: the CPU's pool size).
Result<std::unique_ptr<ComputeBackend>> makeDeviceBackend(const std::string& device, int nThreads);

} // namespace moe
