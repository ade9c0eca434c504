// DeepSeek MLA attention for training, in transformers' (non-absorbed) form, so LoRA on
// kv_b_proj trains what PEFT trains:
//   q = Wq·x  or  Wq_b · rmsnorm(Wq_a·x)              [nh, dn + dr]: q_nope | q_pe
//   [c | k_pe] = Wkv_a·x;  c = rmsnorm(c);  [k_nope | v]_h = (Wkv_b · c)_h
//   k_h = [k_nope_h | rope(k_pe)] (k_pe shared by heads);  q_pe = rope(q_pe)
//   out = Wo · attention(q, k, v)                     softmax scale with YaRN's mscale²
// GGUF files that store kv_b split as attn_k_b / attn_v_b get it rebuilt once at bind time.
#include "models/deepseek.h"
#include "models/train-model.h"

#include "ops/ops-backward.h"

#include <algorithm>

namespace moe::train {

namespace {

constexpr float kLatentNormEps = 1e-6f; // q_a_layernorm / kv_a_layernorm (deepseek.cpp)

class MlaAttention final : public TrainAttention {
public:
    ModelSpec s;
    Linear wq, wqA, wqB, wkvA, kvB, wo;
    TrainVector qANorm, kvANorm;
    ops::RopeFreqs freqs;
    float scale = 1.0f;

    ops::AttentionShape shape() const {
        ops::AttentionShape sh;
        sh.nHead = sh.nHeadKv = s.nHead;
        sh.dk = s.qkNopeHeadDim + s.qkRopeHeadDim;
        sh.dv = s.vHeadDim;
        sh.kStride = int64_t(s.nHead) * sh.dk;
        sh.vStride = int64_t(s.nHead) * sh.dv;
        sh.window = s.slidingWindow;
        return sh;
    }

    void forward(const float* x, const Segments& seg, float* out, Saved& sv, const TrainContext& ctx) const override {
        const int T = seg.nTok, nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim;
        const int R = s.kvLoraRank, Rq = s.qLoraRank;
        const int64_t dq = dn + dr, lat = R + dr, kvw = dn + dv;
        auto& q = sv.floats("q", size_t(T) * size_t(nh * dq));
        if (Rq > 0) {
            auto& qa = sv.floats("qa", size_t(T) * size_t(Rq));
            auto& qan = sv.floats("qan", qa.size());
            linearForward(wqA, x, T, qa.data(), &sv.lin["qa"], ctx);
            ops::rmsnorm(qa.data(), qANorm.data(), qan.data(), T, Rq, kLatentNormEps);
            linearForward(wqB, qan.data(), T, q.data(), &sv.lin["qb"], ctx);
        } else {
            linearForward(wq, x, T, q.data(), &sv.lin["q"], ctx);
        }
        auto& ckv = sv.floats("ckv", size_t(T) * size_t(lat));
        linearForward(wkvA, x, T, ckv.data(), &sv.lin["kva"], ctx);
        auto& cPre = sv.floats("c.pre", size_t(T) * size_t(R));
        auto& c = sv.floats("c", cPre.size());
        auto& kpe = sv.floats("kpe", size_t(T) * size_t(dr));
        for (int t = 0; t < T; ++t) {
            std::copy_n(ckv.data() + t * lat, R, cPre.data() + int64_t(t) * R);
            std::copy_n(ckv.data() + t * lat + R, dr, kpe.data() + int64_t(t) * dr);
        }
        ops::rmsnorm(cPre.data(), kvANorm.data(), c.data(), T, R, kLatentNormEps);
        ops::ropeApply(kpe.data(), T, dr, 1, dr, 0, dr, seg.pos.data(), freqs, true);
        ops::ropeApply(q.data(), T, nh * dq, nh, dq, dn, dr, seg.pos.data(), freqs, true);
        std::vector<float> kv(size_t(T) * size_t(nh * kvw));
        linearForward(kvB, c.data(), T, kv.data(), &sv.lin["kvb"], ctx);
        auto& k = sv.floats("k", size_t(T) * size_t(nh * dq));
        auto& v = sv.floats("v", size_t(T) * size_t(nh * dv));
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < nh; ++h) {
                const float* src = kv.data() + (int64_t(t) * nh + h) * kvw;
                float* kh = k.data() + (int64_t(t) * nh + h) * dq;
                std::copy_n(src, dn, kh);
                std::copy_n(kpe.data() + int64_t(t) * dr, dr, kh + dn);
                std::copy_n(src + dn, dv, v.data() + (int64_t(t) * nh + h) * dv);
            }
        auto& att = sv.floats("att", size_t(T) * size_t(nh * dv));
        const ops::AttentionShape sh = shape();
        for (size_t i = 0; i < seg.start.size(); ++i) {
            const int64_t r = seg.start[i];
            ops::attention(q.data() + r * nh * dq, k.data() + r * nh * dq, v.data() + r * nh * dv,
                           att.data() + r * nh * dv, seg.len[i], 0, sh, scale, ctx.pool);
        }
        linearForward(wo, att.data(), T, out, &sv.lin["o"], ctx);
    }

    void backward(const float* x, const Segments& seg, const float* dOut, float* dx, Saved& sv,
                  const TrainContext& ctx) const override {
        const int T = seg.nTok, nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim;
        const int R = s.kvLoraRank, Rq = s.qLoraRank;
        const int64_t dq = dn + dr, lat = R + dr, kvw = dn + dv;
        const auto& q = sv.f["q"];
        const auto& k = sv.f["k"];
        const auto& v = sv.f["v"];
        std::vector<float> dAtt(size_t(T) * size_t(nh * dv)), dQ(q.size());
        std::vector<float> dK(k.size(), 0.0f), dV(v.size(), 0.0f);
        linearBackward(wo, sv.f["att"].data(), dOut, T, dAtt.data(), false, sv.lin["o"], ctx);
        const ops::AttentionShape sh = shape();
        for (size_t i = 0; i < seg.start.size(); ++i) {
            const int64_t r = seg.start[i];
            ops::attentionBackward(q.data() + r * nh * dq, k.data() + r * nh * dq, v.data() + r * nh * dv,
                                   dAtt.data() + r * nh * dv, dQ.data() + r * nh * dq, dK.data() + r * nh * dq,
                                   dV.data() + r * nh * dv, seg.len[i], 0, sh, scale, ctx.pool);
        }
        ops::ropeBackward(dQ.data(), T, nh * dq, nh, dq, dn, dr, seg.pos.data(), freqs, true);
        std::vector<float> dkv(size_t(T) * size_t(nh * kvw)), dkpe(size_t(T) * size_t(dr), 0.0f);
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < nh; ++h) {
                const float* g = dK.data() + (int64_t(t) * nh + h) * dq;
                float* d = dkv.data() + (int64_t(t) * nh + h) * kvw;
                std::copy_n(g, dn, d);
                std::copy_n(dV.data() + (int64_t(t) * nh + h) * dv, dv, d + dn);
                for (int j = 0; j < dr; ++j)
                    dkpe[size_t(int64_t(t) * dr + j)] += g[dn + j];
            }
        ops::ropeBackward(dkpe.data(), T, dr, 1, dr, 0, dr, seg.pos.data(), freqs, true);
        std::vector<float> dc(size_t(T) * size_t(R)), dcPre(dc.size());
        linearBackward(kvB, sv.f["c"].data(), dkv.data(), T, dc.data(), false, sv.lin["kvb"], ctx);
        ops::rmsnormBackward(sv.f["c.pre"].data(), kvANorm.data(), dc.data(), dcPre.data(),
                             kvANorm.param ? kvANorm.param->grad.data() : nullptr, T, R, kLatentNormEps, ctx.pool);
        std::vector<float> dckv(size_t(T) * size_t(lat));
        for (int t = 0; t < T; ++t) {
            std::copy_n(dcPre.data() + int64_t(t) * R, R, dckv.data() + t * lat);
            std::copy_n(dkpe.data() + int64_t(t) * dr, dr, dckv.data() + t * lat + R);
        }
        linearBackward(wkvA, x, dckv.data(), T, dx, false, sv.lin["kva"], ctx);
        if (Rq > 0) {
            std::vector<float> dqan(size_t(T) * size_t(Rq)), dqa(dqan.size());
            linearBackward(wqB, sv.f["qan"].data(), dQ.data(), T, dqan.data(), false, sv.lin["qb"], ctx);
            ops::rmsnormBackward(sv.f["qa"].data(), qANorm.data(), dqan.data(), dqa.data(),
                                 qANorm.param ? qANorm.param->grad.data() : nullptr, T, Rq, kLatentNormEps, ctx.pool);
            linearBackward(wqA, x, dqa.data(), T, dx, true, sv.lin["qa"], ctx);
        } else {
            linearBackward(wq, x, dQ.data(), T, dx, true, sv.lin["q"], ctx);
        }
    }
};

} // namespace

Result<std::unique_ptr<TrainAttention>> bindMlaAttention(TrainBinder& b, int il) {
    const ModelSpec& s = b.spec();
    const WeightSource& src = b.source();
    auto a = std::make_unique<MlaAttention>();
    a->s = s;
    const int nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim, R = s.kvLoraRank;
    const int64_t H = s.nEmbd, dq = dn + dr;
    a->scale = deepseekSoftmaxScale(s);
    MOE_ASSIGN_OR_RETURN(a->freqs, b.rope(dr));
    const std::string p = "blk." + std::to_string(il) + ".";
    if (s.qLoraRank > 0) {
        MOE_ASSIGN_OR_RETURN(a->wqA, b.linear(p + "attn_q_a.weight", s.qLoraRank, H));
        MOE_ASSIGN_OR_RETURN(a->qANorm, b.vector(p + "attn_q_a_norm.weight", s.qLoraRank));
        MOE_ASSIGN_OR_RETURN(a->wqB, b.linear(p + "attn_q_b.weight", nh * dq, s.qLoraRank));
    } else {
        MOE_ASSIGN_OR_RETURN(a->wq, b.linear(p + "attn_q.weight", nh * dq, H));
    }
    MOE_ASSIGN_OR_RETURN(a->wkvA, b.linear(p + "attn_kv_a_mqa.weight", R + dr, H));
    MOE_ASSIGN_OR_RETURN(a->kvANorm, b.vector(p + "attn_kv_a_norm.weight", R));
    if (src.find(p + "attn_k_b.weight")) {
        // kv_b [nh*(dn+dv), R] from attn_k_b [nh, R, dn] (transposed per head) and attn_v_b [nh, dv, R].
        MOE_ASSIGN_OR_RETURN(ops::WeightView kb, src.stacked(p + "attn_k_b.weight", nh, R, dn));
        MOE_ASSIGN_OR_RETURN(ops::WeightView vb, src.stacked(p + "attn_v_b.weight", nh, dv, R));
        const int64_t kvw = dn + dv;
        std::vector<float>& w = b.own(size_t(nh) * size_t(kvw) * size_t(R));
        std::vector<float> row(size_t(std::max(dn, R)));
        for (int h = 0; h < nh; ++h) {
            for (int r = 0; r < R; ++r) {
                kb.rowToF32(int64_t(h) * R + r, row.data());
                for (int i = 0; i < dn; ++i)
                    w[size_t((int64_t(h) * kvw + i) * R + r)] = row[size_t(i)];
            }
            for (int j = 0; j < dv; ++j)
                vb.rowToF32(int64_t(h) * dv + j, w.data() + (int64_t(h) * kvw + dn + j) * R);
        }
        ops::WeightView view;
        view.data = w.data();
        view.type = ops::WeightType::F32;
        view.rows = int64_t(nh) * kvw;
        view.cols = R;
        a->kvB = b.linearFromView(view, p + "attn_kv_b.weight");
    } else {
        MOE_ASSIGN_OR_RETURN(a->kvB, b.linear(p + "attn_kv_b.weight", int64_t(nh) * (dn + dv), R));
    }
    MOE_ASSIGN_OR_RETURN(a->wo, b.linear(p + "attn_output.weight", H, int64_t(nh) * dv));
    return std::unique_ptr<TrainAttention>(std::move(a));
}

} // namespace moe::train
