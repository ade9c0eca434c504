// Host-callable Vulkan ops: each takes host spans, copies them into buffers on the Context's
// device, dispatches the embedded shader, waits and copies the result back; returns a Status.
// They are the v0 entry points used to test shaders against the CPU reference.
#pragma once

#include "backends/vulkan/vulkan-context.h"
#include "moe/status.h"

#include <cstdint>
#include <span>

namespace moe::vulkan {

// RMSNorm over rows: y[r, i] = x[r, i] / sqrt(mean_i(x[r, :]^2) + eps) * weight[i].
// x and y are [nRows, n] row-major, weight is [n]. Requires n >= 1, nRows >= 0,
// x.size() == y.size() == nRows * n < 2^32 and weight.size() == n; otherwise InvalidArgument
// and no Vulkan call. Blocks until y holds the result. Thread: the Context's thread.
// Failure: DeviceError / OutOfMemory naming the Vulkan call.
Status rmsnormF32(Context& ctx, std::span<const float> x, std::span<const float> weight,
                  std::span<float> y, int64_t nRows, int64_t n, float eps);

} // namespace moe::vulkan
