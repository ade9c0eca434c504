// RMSNorm backward (forward: ops/rmsnorm.cpp, HF LlamaRMSNorm in float32). With r = 1/sqrt(ms +
// eps), ms = mean(x^2), y = x r w and g = dy ⊙ w:
//   dx = r g - x r^3 <g, x> / n,     dw += sum_t dy ⊙ x r.
// r is recomputed per row (double sum of squares, as the forward); dx rows are parallel, dw is
// reduced per column range so no two workers write the same element.
#include "core/thread-pool.h"
#include "ops/ops-backward.h"

#include <cmath>
#include <vector>

namespace moe::ops {

void rmsnormBackward(const float* x, const float* w, const float* dy, float* dx, float* dw,
                     int nTok, int n, float eps, ThreadPool* pool) {
    std::vector<float> rinv(static_cast<size_t>(nTok));
    auto rows = [&](size_t t0, size_t t1) {
        for (size_t t = t0; t < t1; ++t) {
            const float* xr = x + int64_t(t) * n;
            const float* gr = dy + int64_t(t) * n;
            float* dxr = dx + int64_t(t) * n;
            double ss = 0;
            for (int i = 0; i < n; ++i)
                ss += double(xr[i]) * xr[i];
            const float r = 1.0f / std::sqrt(float(ss / n) + eps);
            rinv[t] = r;
            double gx = 0; // <dy ⊙ w, x>
            for (int i = 0; i < n; ++i)
                gx += double(gr[i]) * w[i] * xr[i];
            const float c = float(gx) * r * r * r / float(n);
            for (int i = 0; i < n; ++i)
                dxr[i] = r * gr[i] * w[i] - c * xr[i];
        }
    };
    const bool parallel = pool && int64_t(nTok) * n >= (1 << 14);
    if (parallel)
        pool->parallelFor(size_t(nTok), rows);
    else
        rows(0, size_t(nTok));
    if (!dw) return;
    auto cols = [&](size_t i0, size_t i1) {
        for (size_t i = i0; i < i1; ++i) {
            double acc = 0;
            for (int t = 0; t < nTok; ++t)
                acc += double(dy[int64_t(t) * n + int64_t(i)]) * x[int64_t(t) * n + int64_t(i)] *
                       rinv[size_t(t)];
            dw[i] += float(acc);
        }
    };
    if (parallel)
        pool->parallelFor(size_t(n), cols);
    else
        cols(0, size_t(n));
}

} // namespace moe::ops
