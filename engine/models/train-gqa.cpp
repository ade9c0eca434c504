// GQA attention for training (Mixtral, Qwen2-MoE with q/k/v biases, Qwen3-MoE per-head QK-norm,
// OLMoE full-width QK-norm, dense Llama/Qwen): forward saving q/k/v before and after norm and
// rope, backward through attention, rope, QK-norm and the projections. Same math as the
// inference family in gqa-moe.cpp, over packed sequences (train-blocks.h).
#include "models/train-model.h"

#include "ops/ops-backward.h"

#include <cmath>

namespace moe::train {

namespace {

class GqaAttention final : public TrainAttention {
public:
    ModelSpec s;
    Linear wq, wk, wv, wo;
    TrainVector qNorm, kNorm;
    ops::RopeFreqs freqs;

    ops::AttentionShape shape() const {
        ops::AttentionShape sh;
        sh.nHead = s.nHead;
        sh.nHeadKv = s.nHeadKv;
        sh.dk = sh.dv = s.headDim;
        sh.kStride = sh.vStride = int64_t(s.nHeadKv) * s.headDim;
        sh.window = s.slidingWindow;
        return sh;
    }

    void forward(const float* x, const Segments& seg, float* out, Saved& sv, const TrainContext& ctx) const override {
        const int T = seg.nTok;
        const int64_t hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
        auto& q = sv.floats("q", size_t(T) * size_t(nQ));
        auto& k = sv.floats("k", size_t(T) * size_t(nKv));
        auto& v = sv.floats("v", size_t(T) * size_t(nKv));
        auto& att = sv.floats("att", size_t(T) * size_t(nQ));
        linearForward(wq, x, T, q.data(), &sv.lin["q"], ctx);
        linearForward(wk, x, T, k.data(), &sv.lin["k"], ctx);
        linearForward(wv, x, T, v.data(), &sv.lin["v"], ctx);
        if (s.qkNorm != "none") {
            sv.f["q.pre"] = q;
            sv.f["k.pre"] = k;
            const bool head = s.qkNorm == "head";
            ops::rmsnorm(q.data(), qNorm.data(), q.data(), head ? T * s.nHead : T, int(head ? hd : nQ), s.rmsEps);
            ops::rmsnorm(k.data(), kNorm.data(), k.data(), head ? T * s.nHeadKv : T, int(head ? hd : nKv), s.rmsEps);
        }
        ops::ropeApply(q.data(), T, nQ, s.nHead, hd, 0, s.nRot, seg.pos.data(), freqs, s.ropeInterleaved);
        ops::ropeApply(k.data(), T, nKv, s.nHeadKv, hd, 0, s.nRot, seg.pos.data(), freqs, s.ropeInterleaved);
        const ops::AttentionShape sh = shape();
        const float scale = 1.0f / std::sqrt(float(hd));
        for (size_t i = 0; i < seg.start.size(); ++i) {
            const int64_t r = seg.start[i];
            ops::attention(q.data() + r * nQ, k.data() + r * nKv, v.data() + r * nKv, att.data() + r * nQ, seg.len[i],
                           0, sh, scale, ctx.pool);
        }
        linearForward(wo, att.data(), T, out, &sv.lin["o"], ctx);
    }

    void backward(const float* x, const Segments& seg, const float* dOut, float* dx, Saved& sv,
                  const TrainContext& ctx) const override {
        const int T = seg.nTok;
        const int64_t hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
        const auto& q = sv.f["q"];
        const auto& k = sv.f["k"];
        const auto& v = sv.f["v"];
        std::vector<float> dAtt(size_t(T) * size_t(nQ)), dq(dAtt.size());
        std::vector<float> dk(size_t(T) * size_t(nKv), 0.0f), dv(dk.size(), 0.0f);
        linearBackward(wo, sv.f["att"].data(), dOut, T, dAtt.data(), false, sv.lin["o"], ctx);
        const ops::AttentionShape sh = shape();
        const float scale = 1.0f / std::sqrt(float(hd));
        for (size_t i = 0; i < seg.start.size(); ++i) {
            const int64_t r = seg.start[i];
            ops::attentionBackward(q.data() + r * nQ, k.data() + r * nKv, v.data() + r * nKv, dAtt.data() + r * nQ,
                                   dq.data() + r * nQ, dk.data() + r * nKv, dv.data() + r * nKv, seg.len[i], 0, sh,
                                   scale, ctx.pool);
        }
        ops::ropeBackward(dq.data(), T, nQ, s.nHead, hd, 0, s.nRot, seg.pos.data(), freqs, s.ropeInterleaved);
        ops::ropeBackward(dk.data(), T, nKv, s.nHeadKv, hd, 0, s.nRot, seg.pos.data(), freqs, s.ropeInterleaved);
        if (s.qkNorm != "none") {
            const bool head = s.qkNorm == "head";
            std::vector<float> g(dq.size());
            ops::rmsnormBackward(sv.f["q.pre"].data(), qNorm.data(), dq.data(), g.data(),
                                 qNorm.param ? qNorm.param->grad.data() : nullptr, head ? T * s.nHead : T,
                                 int(head ? hd : nQ), s.rmsEps, ctx.pool);
            dq.swap(g);
            g.resize(dk.size());
            ops::rmsnormBackward(sv.f["k.pre"].data(), kNorm.data(), dk.data(), g.data(),
                                 kNorm.param ? kNorm.param->grad.data() : nullptr, head ? T * s.nHeadKv : T,
                                 int(head ? hd : nKv), s.rmsEps, ctx.pool);
            dk.swap(g);
        }
        linearBackward(wq, x, dq.data(), T, dx, false, sv.lin["q"], ctx);
        linearBackward(wk, x, dk.data(), T, dx, true, sv.lin["k"], ctx);
        linearBackward(wv, x, dv.data(), T, dx, true, sv.lin["v"], ctx);
    }
};

} // namespace

Result<std::unique_ptr<TrainAttention>> bindGqaAttention(TrainBinder& b, int il) {
    const ModelSpec& s = b.spec();
    auto a = std::make_unique<GqaAttention>();
    a->s = s;
    if (a->s.nRot <= 0) a->s.nRot = s.headDim;
    const int64_t H = s.nEmbd, hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
    MOE_ASSIGN_OR_RETURN(a->freqs, b.rope(a->s.nRot));
    const std::string p = "blk." + std::to_string(il) + ".";
    MOE_ASSIGN_OR_RETURN(a->wq, b.linear(p + "attn_q.weight", nQ, H));
    MOE_ASSIGN_OR_RETURN(a->wk, b.linear(p + "attn_k.weight", nKv, H));
    MOE_ASSIGN_OR_RETURN(a->wv, b.linear(p + "attn_v.weight", nKv, H));
    MOE_ASSIGN_OR_RETURN(a->wo, b.linear(p + "attn_output.weight", H, nQ));
    MOE_ASSIGN_OR_RETURN(a->wq.bias, b.vector(p + "attn_q.bias", nQ, true));
    MOE_ASSIGN_OR_RETURN(a->wk.bias, b.vector(p + "attn_k.bias", nKv, true));
    MOE_ASSIGN_OR_RETURN(a->wv.bias, b.vector(p + "attn_v.bias", nKv, true));
    if (s.qkNorm != "none") {
        const bool full = s.qkNorm == "full";
        MOE_ASSIGN_OR_RETURN(a->qNorm, b.vector(p + "attn_q_norm.weight", full ? nQ : hd));
        MOE_ASSIGN_OR_RETURN(a->kNorm, b.vector(p + "attn_k_norm.weight", full ? nKv : hd));
    }
    return std::unique_ptr<TrainAttention>(std::move(a));
}

} // namespace moe::train
