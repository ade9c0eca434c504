// RMSNorm reference (HF LlamaRMSNorm semantics in float32; reference/model-formats.md §1.1).
#include "ops/ops.h"

#include <cmath>

namespace moe::ops {

void rmsnorm(const float* x, const float* w, float* y, int nTok, int n, float eps) {
    for (int t = 0; t < nTok; ++t) {
        const float* xr = x + int64_t(t) * n;
        float* yr = y + int64_t(t) * n;
        double ss = 0;
        for (int i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
        const float inv = 1.0f / std::sqrt(float(ss / n) + eps);
        for (int i = 0; i < n; ++i) yr[i] = xr[i] * inv * w[i];
    }
}

} // namespace moe::ops
