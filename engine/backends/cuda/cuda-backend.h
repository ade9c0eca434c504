// CudaBackend: the op table (backends/backend.h) on one NVIDIA GPU. Design:
//   - one stream; every op only enqueues (kernels in elementwise.cu, matmul.cu, attention.cu,
//     routing.cu; cuBLAS for F32 dense weights) and never waits for the device; a failed launch is
//     recorded and the next download()/sync() returns it (the first one, then it is cleared);
//   - buffers from a caching allocator (cuda-allocator.h), op scratch kept by name and grown;
//   - weights copied by residentWeight/residentVector and owned by the backend until it is
//     destroyed; quantized blocks stay quantized on the device;
//   - the MoE block stays on the device: the router writes ids, a kernel sorts the slots by expert,
//     one launch runs gate+up+SwiGLU for all selected experts, one runs down, one combines.
#pragma once

#include "backends/backend.h"
#include "backends/cuda/cuda-allocator.h"
#include "backends/cuda/cuda-buffer.h"
#include "backends/cuda/cuda-kernels.h"

#include <cublas_v2.h>

#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace moe::cuda {

// prepareExperts' device data: per-expert weight pointers for the grouped launches.
struct ExpertTables {
    DeviceBuffer gate, up, down; // const void*[nExpert] each
    DevType gateType = DevType::F32, downType = DevType::F32;
    size_t gateRowBytes = 0, downRowBytes = 0;
    int64_t nEmbd = 0, nFf = 0;
    int nExpert = 0;
};

class CudaBackend final : public ComputeBackend {
public:
    static Result<std::unique_ptr<CudaBackend>> create(int device);
    ~CudaBackend() override;

    std::string name() const override { return "cuda:" + std::to_string(m_device); }

    Result<BackendMemory> allocate(size_t bytes) override;
    void release(void* ptr) override;
    Status upload(void* dst, const void* src, size_t bytes) override;
    Status download(void* dst, const void* src, size_t bytes) override;
    Status sync() override;
    Result<ops::WeightView> residentWeight(const ops::WeightView& host) override;
    Result<const float*> residentVector(const float* host, int64_t n) override;
    Status prepareExperts(ExpertSet& set) override;

    void embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) override;
    void rmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride, int rows, int n,
                 float eps) override;
    void matmul(const float* x, int nTok, const ops::WeightView& w, float* y) override;
    void matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) override;
    void headMatmul(const float* x, int64_t xRowStride, int64_t xHeadStride, int nTok, int nHead,
                    const ops::WeightView& head0, int64_t headRowOffset, bool transposed, float* y,
                    int64_t yRowStride, int64_t yHeadStride) override;
    void addRows(float* y, const float* b, int rows, int64_t n) override;
    void add(float* y, const float* x, int64_t n) override;
    void swiglu(const float* gate, const float* up, float* out, int64_t n) override;
    void sigmoidGateAdd(float* out, const float* s, const float* x, const float* g, int nTok, int64_t n) override;
    void copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows,
                int64_t cols) override;
    void gatherRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) override;
    void scatterRows(float* dst, const float* src, const int32_t* rows, int n, int64_t width) override;
    void rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset, int nRot,
              const int32_t* pos, const RopeTable& freqs, bool interleaved) override;
    void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
                   const int32_t* pos, const PagedRows& rows, const ops::AttentionShape& shape,
                   float scale) override;
    void route(const float* logits, int nTok, int nExpert, const ops::RouterParams& params, float threshold,
               bool renormalizeKept, int32_t* ids, float* weights) override;
    void moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights, int k,
                    const ExpertSet& experts, float* out) override;
    void accumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert, int64_t* counts,
                           double* sums) override;

private:
    explicit CudaBackend(int device) : m_device(device) {}
    bool bind();                            // makes the device current; false (recorded) on failure
    void record(Status status);             // keeps the first error
    void checkLaunch(const char* op);       // records a launch error of op
    Status takeError();                     // the recorded error (cleared), or ok
    void* scratch(const char* name, size_t bytes); // op scratch, grown on demand; null (recorded) on failure

    int m_device = 0;
    cudaStream_t m_stream = nullptr;
    cublasHandle_t m_cublas = nullptr;
    CachingAllocator m_alloc;
    std::mutex m_errorMutex;
    Status m_error;
    std::map<std::string, std::pair<void*, size_t>> m_scratch;
    std::deque<DeviceBuffer> m_weights; // resident copies, freed with the backend
};

} // namespace moe::cuda
