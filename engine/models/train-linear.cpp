// Linear forward and backward with frozen or trained weights and a LoRA branch; see train-linear.h.
#include "models/train-linear.h"

#include "backends/cpu/cpu-gemm.h"
#include "backends/cpu/cpu-matmul.h"

#include <algorithm>

namespace moe::train {

void Param::zeroGrad() {
    grad.assign(value.size(), 0.0f);
}

ops::WeightView Linear::view() const {
    if (!weight) return frozen;
    ops::WeightView v;
    v.data = weight->value.data();
    v.type = ops::WeightType::F32;
    v.rows = frozen.rows;
    v.cols = frozen.cols;
    return v;
}

void initFromWeight(Param& p, const ops::WeightView& w, const std::string& name) {
    p.name = name;
    p.shape = {w.rows, w.cols};
    p.value.resize(size_t(w.rows * w.cols));
    for (int64_t r = 0; r < w.rows; ++r)
        w.rowToF32(r, p.value.data() + r * w.cols);
    p.zeroGrad();
}

namespace {

// splitmix64: the dropout stream is a pure function of its counter, so a recomputed forward
// (activation checkpointing) and a resumed run draw the same masks.
uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void makeMask(const LoraBranch& lora, const TrainContext& ctx, int64_t n, std::vector<float>& mask) {
    const float keep = 1.0f - lora.dropout;
    const float scale = 1.0f / keep;
    const uint64_t base = mix(mix(ctx.seed ^ lora.key) + ctx.step);
    mask.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        const double u = double(mix(base + uint64_t(i)) >> 11) * 0x1.0p-53;
        mask[size_t(i)] = u < double(keep) ? scale : 0.0f;
    }
}

} // namespace

void linearForward(const Linear& l, const float* x, int nTok, float* y, LinearSaved* saved,
                   const TrainContext& ctx) {
    const int64_t out = l.out(), in = l.in();
    cpu::matmul(x, nTok, l.view(), y, ctx.pool);
    if (const float* b = l.bias.data())
        for (int t = 0; t < nTok; ++t)
            for (int64_t i = 0; i < out; ++i)
                y[t * out + i] += b[i];
    if (!l.lora.a) return;
    const int r = l.lora.rank;
    std::vector<float> localXa, localMask;
    std::vector<float>& xa = saved ? saved->xa : localXa;
    std::vector<float>& mask = saved ? saved->mask : localMask;
    xa.resize(size_t(nTok) * size_t(r));
    const float* xin = x;
    std::vector<float> masked;
    if (ctx.training && l.lora.dropout > 0.0f) {
        makeMask(l.lora, ctx, int64_t(nTok) * in, mask);
        masked.resize(mask.size());
        for (size_t i = 0; i < mask.size(); ++i)
            masked[i] = x[i] * mask[i];
        xin = masked.data();
    } else {
        mask.clear();
    }
    cpu::gemm(false, true, nTok, r, in, 1.0f, xin, in, l.lora.a->value.data(), in, 0.0f, xa.data(), r, ctx.pool);
    cpu::gemm(false, true, nTok, out, r, l.lora.scaling, xa.data(), r, l.lora.b->value.data(), r, 1.0f, y, out,
              ctx.pool);
}

void linearBackward(const Linear& l, const float* x, const float* dy, int nTok, float* dx, bool accumulateDx,
                    const LinearSaved& saved, const TrainContext& ctx) {
    const int64_t out = l.out(), in = l.in();
    if (dx) cpu::matmulInputGrad(dy, nTok, l.view(), dx, accumulateDx, ctx.pool);
    if (l.weight) // dW[out, in] += dyᵀ · x
        cpu::gemm(true, false, out, in, nTok, 1.0f, dy, out, x, in, 1.0f, l.weight->grad.data(), in, ctx.pool);
    if (l.bias.param) {
        float* db = l.bias.param->grad.data();
        for (int t = 0; t < nTok; ++t)
            for (int64_t i = 0; i < out; ++i)
                db[i] += dy[t * out + i];
    }
    if (!l.lora.a) return;
    const int r = l.lora.rank;
    const float s = l.lora.scaling;
    // dB[out, r] += s · dyᵀ · xa;  dxa[nTok, r] = s · dy · B;  dA[r, in] += dxaᵀ · (m ⊙ x);
    // dx += m ⊙ (dxa · A).
    cpu::gemm(true, false, out, r, nTok, s, dy, out, saved.xa.data(), r, 1.0f, l.lora.b->grad.data(), r, ctx.pool);
    std::vector<float> dxa(size_t(nTok) * size_t(r));
    cpu::gemm(false, false, nTok, r, out, s, dy, out, l.lora.b->value.data(), r, 0.0f, dxa.data(), r, ctx.pool);
    const bool masked = !saved.mask.empty();
    std::vector<float> xm;
    const float* xin = x;
    if (masked) {
        xm.resize(saved.mask.size());
        for (size_t i = 0; i < xm.size(); ++i)
            xm[i] = x[i] * saved.mask[i];
        xin = xm.data();
    }
    cpu::gemm(true, false, r, in, nTok, 1.0f, dxa.data(), r, xin, in, 1.0f, l.lora.a->grad.data(), in, ctx.pool);
    if (!dx) return;
    if (!masked) {
        cpu::gemm(false, false, nTok, in, r, 1.0f, dxa.data(), r, l.lora.a->value.data(), in, 1.0f, dx, in, ctx.pool);
        return;
    }
    std::vector<float> g(size_t(nTok) * size_t(in));
    cpu::gemm(false, false, nTok, in, r, 1.0f, dxa.data(), r, l.lora.a->value.data(), in, 0.0f, g.data(), in, ctx.pool);
    for (size_t i = 0; i < g.size(); ++i)
        dx[i] += g[i] * saved.mask[i];
}

} // namespace moe::train
