// Default implementations of the composite ops of ComputeBackend (backend.h) in terms of its
// primitive ops, so a backend without its own kernel (Vulkan, the CPU) runs them unchanged.
// Key choice: headMatmul gathers each head's inputs into one scratch allocation and scatters the
// outputs back with copy2d, keeping one matmul per head (not per token) for batched prefill.
#include "backends/backend.h"


namespace moe {

// Contract: see backend.h. Scratch: nTok * (in + out) floats; when it cannot be allocated, the
// products run one token at a time straight on x and y (no scratch, more launches).
void ComputeBackend::headMatmul(const float* x, int64_t xRowStride, int64_t xHeadStride, int nTok, int nHead,
                                const ops::WeightView& head0, int64_t headRowOffset, bool transposed, float* y,
                                int64_t yRowStride, int64_t yHeadStride) {
    if (nTok <= 0 || nHead <= 0) return;
    const int64_t in = transposed ? head0.rows : head0.cols;
    const int64_t out = transposed ? head0.cols : head0.rows;
    auto product = [&](const float* src, int n, const ops::WeightView& w, float* dst) {
        if (transposed)
            matmulTransposed(src, n, w, dst);
        else
            matmul(src, n, w, dst);
    };
    auto scratch = allocate(static_cast<size_t>(nTok) * static_cast<size_t>(in + out) * sizeof(float));
    for (int h = 0; h < nHead; ++h) {
        const ops::WeightView w = head0.rowsView(int64_t(h) * headRowOffset, head0.rows);
        const float* xh = x + int64_t(h) * xHeadStride;
        float* yh = y + int64_t(h) * yHeadStride;
        if (!scratch.isOk()) {
            for (int t = 0; t < nTok; ++t) product(xh + int64_t(t) * xRowStride, 1, w, yh + int64_t(t) * yRowStride);
            continue;
        }
        float* headIn = scratch->as<float>();
        float* headOut = headIn + int64_t(nTok) * in;
        copy2d(headIn, in, xh, xRowStride, nTok, in);
        product(headIn, nTok, w, headOut);
        copy2d(yh, yRowStride, headOut, out, nTok, out);
    }
}

} // namespace moe
