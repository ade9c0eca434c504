// VulkanBackend: the op table (backends/backend.h) on one Vulkan device.
//
// Memory is the DeviceHeap's (vulkan-memory.h): allocate() and resident*() return fake addresses
// that resolve to (chunk buffer, byte offset), so ops accept any pointer into an allocation,
// including offsets such as q + h * dq or a weight's rowsView. upload() copies the host data
// into staging at once and records a copy (ordered with the ops); download() and sync() submit
// everything recorded and wait. An op that cannot be recorded (a bad address, a device error, a
// shape past a kernel's limits) records the first error, which the next download() or sync()
// returns; later ops are skipped until then.
//
// Host files by concern: vulkan-backend.cpp (memory, residency, submission), vulkan-elementwise.cpp
// (embed, rmsnorm, add, swiglu, copies, rope, gated add), vulkan-matmul.cpp, vulkan-attention.cpp,
// vulkan-routing.cpp (route, routing statistics), vulkan-experts.cpp (grouped experts).
// Thread: one thread at a time, like every ComputeBackend.
#pragma once

#include "backends/backend.h"
#include "backends/vulkan/vulkan-context.h"
#include "backends/vulkan/vulkan-memory.h"
#include "backends/vulkan/vulkan-stream.h"

#include <array>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace moe::vulkan {

// Weight storage types as the shaders number them (shaders/dequant.glsl kWeight*).
enum class KernelWeight : uint32_t {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K
};

class VulkanBackend final : public ComputeBackend {
public:
    static Result<std::unique_ptr<VulkanBackend>> create(int device);
    ~VulkanBackend() override;

    std::string name() const override { return "vulkan:" + std::to_string(m_index); }
    const Context& context() const { return *m_ctx; }

    Result<BackendMemory> allocate(size_t bytes) override;
    void release(void* ptr) override;
    Status upload(void* dst, const void* src, size_t bytes) override;
    Status download(void* dst, const void* src, size_t bytes) override;
    Status sync() override;
    Result<ops::WeightView> residentWeight(const ops::WeightView& host) override;
    Result<const float*> residentVector(const float* host, int64_t n) override;
    Status prepareExperts(ExpertSet& set) override;

    void embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) override;
    void rmsnorm(const float* x, int64_t xStride, const float* w, float* y, int64_t yStride,
                 int rows, int n, float eps) override;
    void matmul(const float* x, int nTok, const ops::WeightView& w, float* y) override;
    void matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) override;
    void addRows(float* y, const float* b, int rows, int64_t n) override;
    void add(float* y, const float* x, int64_t n) override;
    void swiglu(const float* gate, const float* up, float* out, int64_t n) override;
    void sigmoidGateAdd(float* out, const float* s, const float* x, const float* g, int nTok,
                        int64_t n) override;
    void copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int rows,
                int64_t cols) override;
    void gatherRows(float* dst, const float* src, const int32_t* rows, int n,
                    int64_t width) override;
    void scatterRows(float* dst, const float* src, const int32_t* rows, int n,
                     int64_t width) override;
    void rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
              int nRot, const int32_t* pos, const RopeTable& freqs, bool interleaved) override;
    void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
                   const int32_t* pos, const PagedRows& rows, const ops::AttentionShape& shape,
                   float scale) override;
    void route(const float* logits, int nTok, int nExpert, const ops::RouterParams& params,
               float threshold, bool renormalizeKept, int32_t* ids, float* weights) override;
    void moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights, int k,
                    const ExpertSet& experts, float* out) override;
    void accumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert,
                           int64_t* counts, double* sums) override;

    // --- for the per-op files ---
    // Pointers resolved for one dispatch: refs[i] binds pointer i; offset(i, unit) is its offset
    // in elements of `unit` bytes. A null pointer binds refs[0] at offset 0.
    struct Bound {
        std::array<BufferRef, Stream::kBindings> refs{};
        std::array<VkDeviceSize, Stream::kBindings> bytes{};
        uint32_t count = 0;
        uint32_t offset(uint32_t i, uint32_t unit = 4) const { return uint32_t(bytes[i] / unit); }
    };
    // False (and the error recorded, naming op) when a pointer is not backend memory, or an offset
    // is not a multiple of its element size.
    bool bind(const char* op, std::initializer_list<std::pair<const void*, uint32_t>> ptrs,
              Bound& out);
    // Records a dispatch of the named kernel; errors are recorded.
    void run(const char* op, std::span<const uint32_t> spirv, std::vector<uint32_t> spec,
             const Bound& b, const void* push, uint32_t pushBytes, uint32_t gx, uint32_t gy = 1,
             uint32_t gz = 1);
    template <class P>
    void run(const char* op, std::span<const uint32_t> spirv, std::vector<uint32_t> spec,
             const Bound& b, const P& push, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1) {
        static_assert(sizeof(P) <= Stream::kPushBytes);
        run(op, spirv, std::move(spec), b, &push, uint32_t(sizeof(P)), gx, gy, gz);
    }
    // A 1-D launch of n workgroups as (x, y) under the device's per-dimension limit.
    std::pair<uint32_t, uint32_t> grid(uint64_t n) const;
    // Records `status` when it is the first error; true when there is no error (then and before).
    bool check(const Status& status);
    bool failed() const { return !m_error.isOk(); }
    // Records an error for op when value exceeds limit (32-bit kernel indexing and the like).
    bool fits(const char* op, const char* what, uint64_t value, uint64_t limit);
    // The shaders' weight type for a view; false (error recorded) for a type they lack.
    bool kernelWeight(const char* op, const ops::WeightView& w, KernelWeight& out,
                      uint32_t& nChunks);
    // Scratch of this backend (grown on demand, kept): index 0.. by purpose.
    void* scratch(int slot, size_t bytes);

private:
    VulkanBackend() = default;

    int m_index = 0;
    std::unique_ptr<Context> m_ctx;
    std::unique_ptr<DeviceHeap> m_heap;
    std::unique_ptr<StagingArena> m_staging;
    std::unique_ptr<Stream> m_stream;
    Status m_error;
    std::vector<BackendMemory> m_resident;
    std::array<BackendMemory, 6> m_scratch;
};

} // namespace moe::vulkan
