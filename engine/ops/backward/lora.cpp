// LoRA linear, forward and backward (reference/model-formats.md §11.4, PEFT's lora.Linear in
// float32): y = x · Wᵀ + s · ((m ⊙ x) · Aᵀ) · Bᵀ with W frozen (any WeightView type) and A, B
// trainable float32. The branch goes through its rank-r bottleneck (never the merged
// W + s·B·A) so a quantized W stays quantized. The forward saves xa = (m ⊙ x) · Aᵀ [nTok, r];
// the backward recomputes nothing else:
//   dB += s · dyᵀ · xa,   g = s · dy · B [nTok, r],   dA += gᵀ · (m ⊙ x),   dx = dy · W + m ⊙ (g ·
//   A).
#include "core/thread-pool.h"
#include "ops/ops-backward.h"

#include <cmath>
#include <vector>

namespace moe::ops {

namespace {

WeightView f32View(const float* data, int64_t rows, int64_t cols) {
    WeightView v;
    v.data = data;
    v.type = WeightType::F32;
    v.rows = rows;
    v.cols = cols;
    return v;
}

// m ⊙ x, or x itself when there is no mask.
const float* maskedInput(const float* x, const float* mask, size_t n, std::vector<float>& buf) {
    if (!mask) return x;
    buf.resize(n);
    for (size_t i = 0; i < n; ++i)
        buf[i] = x[i] * mask[i];
    return buf.data();
}

} // namespace

float loraScaling(float alpha, int rank, bool rsLora) {
    return rsLora ? alpha / std::sqrt(float(rank)) : alpha / float(rank);
}

void loraForward(const float* x, int nTok, const WeightView& w, const LoraAdapter& lora,
                 const float* mask, float* y, float* xa, ThreadPool* pool) {
    const int64_t nIn = w.cols, nOut = w.rows, r = lora.rank;
    matmul(x, nTok, w, y, pool);
    std::vector<float> masked, xaBuf, branch(size_t(nTok) * size_t(nOut));
    const float* u = maskedInput(x, mask, size_t(nTok) * size_t(nIn), masked);
    float* xaOut = xa;
    if (!xaOut) {
        xaBuf.resize(size_t(nTok) * size_t(r));
        xaOut = xaBuf.data();
    }
    matmul(u, nTok, f32View(lora.a, r, nIn), xaOut, pool);
    matmul(xaOut, nTok, f32View(lora.b, nOut, r), branch.data(), pool);
    for (size_t i = 0; i < branch.size(); ++i)
        y[i] += lora.scaling * branch[i];
}

void loraBackward(const float* x, const float* dy, int nTok, const WeightView& w,
                  const LoraAdapter& lora, const float* mask, const float* xa, float* dx, float* dA,
                  float* dB, ThreadPool* pool) {
    const int64_t nIn = w.cols, nOut = w.rows, r = lora.rank;
    const size_t nX = size_t(nTok) * size_t(nIn);
    // g = s · dy · B: the gradient at the bottleneck.
    std::vector<float> g(size_t(nTok) * size_t(r));
    matmulBackwardInput(dy, nTok, f32View(lora.b, nOut, r), g.data(), pool);
    for (float& v : g)
        v *= lora.scaling;
    if (dB) {
        std::vector<float> sdy(dy, dy + size_t(nTok) * size_t(nOut));
        for (float& v : sdy)
            v *= lora.scaling;
        matmulBackwardWeight(xa, sdy.data(), nTok, nOut, r, dB, pool);
    }
    std::vector<float> masked;
    const float* u = maskedInput(x, mask, nX, masked);
    if (dA) matmulBackwardWeight(u, g.data(), nTok, r, nIn, dA, pool);
    // dx = dy · W + m ⊙ (g · A).
    std::vector<float> du(nX);
    matmulBackwardInput(g.data(), nTok, f32View(lora.a, r, nIn), du.data(), pool);
    matmulBackwardInput(dy, nTok, w, dx, pool);
    for (size_t i = 0; i < nX; ++i)
        dx[i] += mask ? mask[i] * du[i] : du[i];
}

} // namespace moe::ops
