// VulkanBackend: creation, memory, staging transfers, residency, submission, and the dispatch
// helpers the per-op files share (see vulkan-backend.h).
#include "backends/vulkan/vulkan-backend.h"

#include "core/dtypes.h"

#include <algorithm>
#include <cstring>

namespace moe::vulkan {

Result<std::unique_ptr<VulkanBackend>> VulkanBackend::create(int device) {
    std::unique_ptr<VulkanBackend> be(new VulkanBackend());
    be->m_index = device;
    MOE_ASSIGN_OR_RETURN(be->m_ctx, Context::create(device));
    be->m_heap = std::make_unique<DeviceHeap>(*be->m_ctx);
    be->m_staging = std::make_unique<StagingArena>(*be->m_ctx);
    be->m_stream = std::make_unique<Stream>(*be->m_ctx, *be->m_heap, *be->m_staging);
    MOE_TRY(be->m_stream->init());
    return be;
}

VulkanBackend::~VulkanBackend() {
    if (m_stream) (void)m_stream->flush();
    for (BackendMemory& m : m_scratch)
        m = BackendMemory();
    m_resident.clear();
}

Result<BackendMemory> VulkanBackend::allocate(size_t bytes) {
    MOE_ASSIGN_OR_RETURN(void* p, m_heap->allocate(bytes));
    return BackendMemory(this, p, bytes);
}

void VulkanBackend::release(void* ptr) {
    m_heap->release(ptr);
}

Status VulkanBackend::upload(void* dst, const void* src, size_t bytes) {
    BufferRef ref;
    if (!m_heap->resolve(dst, ref) || ref.offset + bytes > ref.size)
        return Status(StatusCode::InvalidArgument, "vulkan upload: the destination is not " +
                                                       std::to_string(bytes) +
                                                       " bytes of this backend's memory");
    size_t done = 0;
    while (done < bytes) {
        const size_t piece = std::min<size_t>(bytes - done, StagingArena::kBlockBytes);
        // Bound the staging memory of one submission: submit what is recorded and reuse it.
        if (m_staging->inUse() + piece > 4 * StagingArena::kBlockBytes) MOE_TRY(sync());
        MOE_ASSIGN_OR_RETURN(StagingArena::Slice s, m_staging->take(piece));
        std::memcpy(s.host, static_cast<const char*>(src) + done, piece);
        MOE_TRY(m_stream->copy(s.buffer, s.offset, ref.buffer, ref.offset + done, piece));
        done += piece;
    }
    return Status::ok();
}

Status VulkanBackend::download(void* dst, const void* src, size_t bytes) {
    BufferRef ref;
    if (!m_heap->resolve(src, ref) || ref.offset + bytes > ref.size)
        return Status(StatusCode::InvalidArgument, "vulkan download: the source is not " +
                                                       std::to_string(bytes) +
                                                       " bytes of this backend's memory");
    size_t done = 0;
    while (done < bytes) {
        const size_t piece = std::min<size_t>(bytes - done, StagingArena::kBlockBytes);
        MOE_ASSIGN_OR_RETURN(StagingArena::Slice s, m_staging->take(piece));
        MOE_TRY(m_stream->copy(ref.buffer, ref.offset + done, s.buffer, s.offset, piece));
        if (!m_error.isOk()) break;
        MOE_TRY(m_stream->flush());
        std::memcpy(static_cast<char*>(dst) + done, s.host, piece);
        done += piece;
    }
    return sync();
}

Status VulkanBackend::sync() {
    check(m_stream->flush());
    Status e = m_error;
    m_error = Status::ok();
    return e;
}

Result<ops::WeightView> VulkanBackend::residentWeight(const ops::WeightView& host) {
    const size_t bytes = host.rowBytes() * size_t(host.rows);
    if (host.rows > 0 && bytes == 0)
        return Status(StatusCode::Unsupported, "vulkan: weight rows of " +
                                                   std::to_string(host.cols) +
                                                   " values have no byte size in ggml type " +
                                                   std::to_string(host.ggmlType));
    MOE_ASSIGN_OR_RETURN(BackendMemory m, allocate(bytes));
    MOE_TRY(upload(m.data(), host.data, bytes));
    ops::WeightView v = host;
    v.data = m.data();
    m_resident.push_back(std::move(m));
    return v;
}

Result<const float*> VulkanBackend::residentVector(const float* host, int64_t n) {
    MOE_ASSIGN_OR_RETURN(BackendMemory m, allocate(size_t(n) * sizeof(float)));
    MOE_TRY(upload(m.data(), host, size_t(n) * sizeof(float)));
    const float* p = m.as<const float>();
    m_resident.push_back(std::move(m));
    return p;
}

bool VulkanBackend::check(const Status& status) {
    if (!status.isOk() && m_error.isOk()) m_error = status;
    return m_error.isOk();
}

bool VulkanBackend::fits(const char* op, const char* what, uint64_t value, uint64_t limit) {
    if (value <= limit) return true;
    check(Status(StatusCode::Unsupported,
                 std::string("vulkan ") + op + ": " + what + " " + std::to_string(value) +
                     " exceeds the kernel's limit " + std::to_string(limit)));
    return false;
}

bool VulkanBackend::bind(const char* op,
                         std::initializer_list<std::pair<const void*, uint32_t>> ptrs, Bound& out) {
    if (failed()) return false;
    out.count = 0;
    for (const auto& [p, unit] : ptrs) {
        const uint32_t i = out.count++;
        if (!p) {
            out.refs[i] = out.refs[0];
            out.bytes[i] = 0;
            continue;
        }
        if (!m_heap->resolve(p, out.refs[i]))
            return check(Status(StatusCode::InvalidArgument,
                                std::string("vulkan ") + op + ": argument " + std::to_string(i) +
                                    " is not memory of this backend (allocate() or resident*())"));
        out.bytes[i] = out.refs[i].offset;
        if (out.bytes[i] % unit != 0 || out.bytes[i] / unit > UINT32_MAX)
            return check(Status(StatusCode::InvalidArgument,
                                std::string("vulkan ") + op + ": argument " + std::to_string(i) +
                                    " at byte " + std::to_string(out.bytes[i]) +
                                    " is not addressable in elements of " + std::to_string(unit) +
                                    " bytes"));
    }
    if (out.count > 0 && !ptrs.begin()->first)
        return check(Status(StatusCode::InvalidArgument,
                            std::string("vulkan ") + op + ": argument 0 is null"));
    return true;
}

void VulkanBackend::run(const char* op, std::span<const uint32_t> spirv, std::vector<uint32_t> spec,
                        const Bound& b, const void* push, uint32_t pushBytes, uint32_t gx,
                        uint32_t gy, uint32_t gz) {
    if (failed()) return;
    auto pipeline = m_stream->pipeline(op, spirv, std::move(spec));
    if (!check(pipeline.status())) return;
    check(m_stream->dispatch(*pipeline, std::span(b.refs.data(), b.count), push, pushBytes, gx, gy,
                             gz));
}

std::pair<uint32_t, uint32_t> VulkanBackend::grid(uint64_t n) const {
    const uint64_t maxX =
        std::min<uint64_t>(m_ctx->properties().limits.maxComputeWorkGroupCount[0], 65535);
    if (n <= maxX) return {uint32_t(n), 1};
    return {uint32_t(maxX), uint32_t((n + maxX - 1) / maxX)};
}

bool VulkanBackend::kernelWeight(const char* op, const ops::WeightView& w, KernelWeight& out,
                                 uint32_t& nChunks) {
    nChunks = uint32_t((w.cols + 31) / 32);
    switch (w.type) {
    case ops::WeightType::F32:
        out = KernelWeight::F32;
        return true;
    case ops::WeightType::F16:
        out = KernelWeight::F16;
        return true;
    case ops::WeightType::BF16:
        out = KernelWeight::BF16;
        return true;
    case ops::WeightType::Quantized:
        break;
    }
    nChunks = uint32_t(w.cols / 32);
    switch (static_cast<GgmlType>(w.ggmlType)) {
    case GgmlType::Q4_0:
        out = KernelWeight::Q4_0;
        return true;
    case GgmlType::Q4_1:
        out = KernelWeight::Q4_1;
        return true;
    case GgmlType::Q5_0:
        out = KernelWeight::Q5_0;
        return true;
    case GgmlType::Q5_1:
        out = KernelWeight::Q5_1;
        return true;
    case GgmlType::Q8_0:
        out = KernelWeight::Q8_0;
        return true;
    case GgmlType::Q2_K:
        out = KernelWeight::Q2_K;
        return true;
    case GgmlType::Q3_K:
        out = KernelWeight::Q3_K;
        return true;
    case GgmlType::Q4_K:
        out = KernelWeight::Q4_K;
        return true;
    case GgmlType::Q5_K:
        out = KernelWeight::Q5_K;
        return true;
    case GgmlType::Q6_K:
        out = KernelWeight::Q6_K;
        return true;
    default:
        break;
    }
    check(Status(StatusCode::Unsupported, std::string("vulkan ") + op + ": ggml type " +
                                              std::to_string(w.ggmlType) +
                                              " has no Vulkan kernel"));
    return false;
}

void* VulkanBackend::scratch(int slot, size_t bytes) {
    BackendMemory& m = m_scratch[size_t(slot)];
    if (m.data() == nullptr || m.bytes() < bytes) {
        m = BackendMemory();
        auto r = allocate(std::max<size_t>(bytes, 256));
        if (!check(r.status())) return nullptr;
        m = std::move(r).value();
    }
    return m.data();
}

} // namespace moe::vulkan

namespace moe {

Result<std::unique_ptr<ComputeBackend>> makeVulkanBackend(int device) {
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<vulkan::VulkanBackend> be,
                         vulkan::VulkanBackend::create(device));
    return std::unique_ptr<ComputeBackend>(std::move(be));
}

} // namespace moe
