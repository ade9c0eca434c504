// Host-callable CUDA ops: each takes host spans, uploads them to the current CUDA device, runs
// the kernel, downloads the result and returns a Status. They are the v0 entry points used to
// test kernels against the CPU reference; the op table will call the kernels on device buffers.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <span>

namespace moe::cuda {

// RMSNorm over rows: y[r, i] = x[r, i] / sqrt(mean_i(x[r, :]^2) + eps) * weight[i].
// x and y are [nRows, n] row-major, weight is [n]. Requires n >= 1, nRows >= 0,
// x.size() == y.size() == nRows * n, weight.size() == n; otherwise InvalidArgument and no CUDA
// call. Runs on the calling thread's current device and blocks until y holds the result.
// Failure: DeviceError / OutOfMemory naming the CUDA call (no device, no driver, launch error).
Status rmsnormF32(std::span<const float> x, std::span<const float> weight, std::span<float> y,
                  int64_t nRows, int64_t n, float eps);

} // namespace moe::cuda
