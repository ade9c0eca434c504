// RMSNorm on Vulkan, f32: host side of shaders/rmsnorm.comp (one workgroup per row, shared-
// memory reduction). Reference: engine/ops/rmsnorm.cpp.
#include "backends/vulkan/vulkan-buffer.h"
#include "backends/vulkan/vulkan-ops.h"
#include "backends/vulkan/vulkan-pipeline.h"

#include "rmsnorm.spv.h"

#include <algorithm>
#include <array>
#include <string>

namespace moe::vulkan {
namespace {

// Mirrors `Push` in shaders/rmsnorm.comp (std430 push-constant layout: three 4-byte scalars).
struct RmsnormPush {
    uint32_t nRows;
    uint32_t n;
    float eps;
};
static_assert(sizeof(RmsnormPush) == 12);

} // namespace

Status rmsnormF32(Context& ctx, std::span<const float> x, std::span<const float> weight,
                  std::span<float> y, int64_t nRows, int64_t n, float eps) {
    if (n < 1 || nRows < 0)
        return Status(StatusCode::InvalidArgument, "vulkan rmsnormF32: shape [" +
                                                       std::to_string(nRows) + ", " +
                                                       std::to_string(n) + "] is not valid");
    const uint64_t count = uint64_t(nRows) * uint64_t(n);
    if (count > UINT32_MAX)
        return Status(StatusCode::InvalidArgument,
                      "vulkan rmsnormF32: " + std::to_string(count) +
                          " elements exceed the shader's 32-bit indexing");
    if (x.size() != count || y.size() != count || weight.size() != uint64_t(n))
        return Status(StatusCode::InvalidArgument,
                      "vulkan rmsnormF32: expected x and y of " + std::to_string(count) +
                          " floats and weight of " + std::to_string(n) + ", got x " +
                          std::to_string(x.size()) + ", y " + std::to_string(y.size()) +
                          ", weight " + std::to_string(weight.size()));
    if (count == 0) return Status::ok();

    MOE_ASSIGN_OR_RETURN(ComputePipeline * pipeline,
                         ctx.pipeline("rmsnorm", kSpv_rmsnorm, 3, sizeof(RmsnormPush)));
    MOE_ASSIGN_OR_RETURN(Buffer bx, Buffer::create(ctx, x.size_bytes()));
    MOE_ASSIGN_OR_RETURN(Buffer bw, Buffer::create(ctx, weight.size_bytes()));
    MOE_ASSIGN_OR_RETURN(Buffer by, Buffer::create(ctx, y.size_bytes()));
    MOE_TRY(bx.upload(std::as_bytes(x)));
    MOE_TRY(bw.upload(std::as_bytes(weight)));

    const RmsnormPush push{.nRows = uint32_t(nRows), .n = uint32_t(n), .eps = eps};
    const uint32_t maxGroups = ctx.properties().limits.maxComputeWorkGroupCount[0];
    const uint32_t groups = uint32_t(std::min<int64_t>(nRows, maxGroups));
    const std::array<const Buffer*, 3> buffers{&bx, &bw, &by};
    MOE_TRY(pipeline->dispatch(ctx, buffers, std::as_bytes(std::span(&push, 1)), groups));
    return by.download(std::as_writable_bytes(y));
}

} // namespace moe::vulkan
