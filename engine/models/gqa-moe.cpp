// GQA family forward on the reference ops. Per layer:
//   n = rmsnorm(h, attn_norm)
//   q, k, v = Wq·n (+bq), Wk·n (+bk), Wv·n (+bv);  q, k = qknorm(q, k);  q, k = rope(q, k)
//   h += Wo · attention(q, K cache, V cache)
//   h += FFN(rmsnorm(h, ffn_norm))                   dense MLP or MoE block (ffn.h)
#include "models/gqa-moe.h"

#include "models/ffn.h"
#include "models/linear.h"

#include <cmath>
#include <cstring>

namespace moe {

namespace {

struct GqaLayer {
    const float* attnNorm = nullptr;
    ops::WeightView wq, wk, wv, wo;
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr;
    const float *qNorm = nullptr, *kNorm = nullptr; // [headDim] (head) or [nHead*hd]/[nHeadKv*hd] (full)
    const float* ffnNorm = nullptr;
    FfnLayer ffn;
};

class GqaFamily final : public FamilyForward {
public:
    ModelSpec spec;
    DecoderEnds ends;
    std::vector<GqaLayer> layers;
    ops::RopeFreqs freqs;

    KvGeometry kvGeometry() const override {
        const int w = spec.nHeadKv * spec.headDim;
        return {w, w};
    }

    Status forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                        const ForwardContext& ctx) const override;
};

void addBias(float* y, const float* b, int nTok, int64_t n) {
    if (!b) return;
    for (int t = 0; t < nTok; ++t)
        for (int64_t i = 0; i < n; ++i) y[int64_t(t) * n + i] += b[i];
}

Status GqaFamily::forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                               const ForwardContext& ctx) const {
    ThreadPool* pool = ctx.pool;
    RoutingCounts* routing = ctx.routing;
    const ModelSpec& s = spec;
    std::vector<float> h;
    MOE_TRY(embedTokens(s, ends, cache, batch, h));
    const int nTok = int(batch.tokens.size());
    const int32_t* pos = batch.pos.data();
    const std::vector<const int32_t*> tables = pageTables(cache, batch);
    const ops::KvPages pages{tables.data(), cache.pageSize()};
    const int64_t hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
    if (routing) {
        routing->counts.assign(size_t(s.nLayer) * size_t(s.nExpert), 0);
        routing->weightSums.assign(routing->counts.size(), 0.0);
    }
    std::vector<float> n(h.size()), q(size_t(nTok) * size_t(nQ)), kk(size_t(nTok) * size_t(nKv)),
        vv(kk.size()), att(q.size()), proj(h.size());
    const float scale = 1.0f / std::sqrt(float(hd));
    ops::AttentionShape shape;
    shape.nHead = s.nHead;
    shape.nHeadKv = s.nHeadKv;
    shape.dk = shape.dv = int(hd);
    shape.kStride = shape.vStride = nKv;
    shape.window = s.slidingWindow;

    for (int il = 0; il < s.nLayer; ++il) {
        const GqaLayer& L = layers[size_t(il)];
        ops::rmsnorm(h.data(), L.attnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        linear(n.data(), nTok, L.wq, q.data(), pool);
        linear(n.data(), nTok, L.wk, kk.data(), pool);
        linear(n.data(), nTok, L.wv, vv.data(), pool);
        addBias(q.data(), L.bq, nTok, nQ);
        addBias(kk.data(), L.bk, nTok, nKv);
        addBias(vv.data(), L.bv, nTok, nKv);
        if (s.qkNorm == "head") { // Qwen3: RMS over each head's vector, weights shared by heads
            ops::rmsnorm(q.data(), L.qNorm, q.data(), nTok * s.nHead, int(hd), s.rmsEps);
            ops::rmsnorm(kk.data(), L.kNorm, kk.data(), nTok * s.nHeadKv, int(hd), s.rmsEps);
        } else if (s.qkNorm == "full") { // OLMoE: RMS over the whole q (k) vector, before the split
            ops::rmsnorm(q.data(), L.qNorm, q.data(), nTok, int(nQ), s.rmsEps);
            ops::rmsnorm(kk.data(), L.kNorm, kk.data(), nTok, int(nKv), s.rmsEps);
        }
        ops::ropeApply(q.data(), nTok, nQ, s.nHead, hd, 0, s.nRot, pos, freqs, s.ropeInterleaved);
        ops::ropeApply(kk.data(), nTok, nKv, s.nHeadKv, hd, 0, s.nRot, pos, freqs, s.ropeInterleaved);
        float* kc = cache.layerK(il);
        float* vc = cache.layerV(il);
        for (int t = 0; t < nTok; ++t) {
            const int64_t row = cache.row(batch.seq[size_t(t)], pos[t]);
            std::memcpy(kc + row * nKv, kk.data() + int64_t(t) * nKv, size_t(nKv) * sizeof(float));
            std::memcpy(vc + row * nKv, vv.data() + int64_t(t) * nKv, size_t(nKv) * sizeof(float));
        }
        ops::attention(q.data(), kc, vc, att.data(), nTok, pos, pages, shape, scale, pool);
        linear(att.data(), nTok, L.wo, proj.data(), pool);
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];

        ops::rmsnorm(h.data(), L.ffnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        ffnForward(s, L.ffn, n.data(), nTok, proj.data(), ctx, il);
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];
    }
    outputLogits(s, ends, h, batch, n, logits, pool);
    return Status::ok();
}

Result<const float*> optionalVector(const WeightSource& src, const std::string& name, int64_t n) {
    if (!src.find(name)) return static_cast<const float*>(nullptr);
    return src.vectorF32(name, n);
}

} // namespace

Result<std::unique_ptr<FamilyForward>> bindGqaFamily(const WeightSource& src, const ModelSpec& s) {
    auto fam = std::make_unique<GqaFamily>();
    fam->spec = s;
    if (fam->spec.nRot <= 0) fam->spec.nRot = s.headDim;
    const int64_t nEmbd = s.nEmbd, hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
    if (s.nHead <= 0 || s.nHeadKv <= 0 || s.nHead % s.nHeadKv != 0 || hd <= 0 || fam->spec.nRot > hd ||
        fam->spec.nRot % 2 != 0)
        return Status(StatusCode::CorruptFile, src.location() + ": attention shape " + std::to_string(s.nHead) +
                                                   " heads / " + std::to_string(s.nHeadKv) + " KV heads / head dim " +
                                                   std::to_string(hd) + " / rotary dims " +
                                                   std::to_string(fam->spec.nRot) + " is inconsistent");
    auto freqs = ropeFreqsFor(s, fam->spec.nRot);
    if (!freqs.isOk()) return Status(freqs.status().code(), src.location() + ": " + freqs.status().message());
    fam->freqs = std::move(freqs).value();
    MOE_TRY(bindDecoderEnds(src, s, fam->ends));
    fam->layers.resize(size_t(s.nLayer));
    const int64_t qNormWidth = s.qkNorm == "full" ? nQ : hd, kNormWidth = s.qkNorm == "full" ? nKv : hd;
    for (int il = 0; il < s.nLayer; ++il) {
        GqaLayer& L = fam->layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, src.vectorF32(p + "attn_norm.weight", nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wq, src.matrix(p + "attn_q.weight", nQ, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wk, src.matrix(p + "attn_k.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wv, src.matrix(p + "attn_v.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wo, src.matrix(p + "attn_output.weight", nEmbd, nQ));
        MOE_ASSIGN_OR_RETURN(L.bq, optionalVector(src, p + "attn_q.bias", nQ));
        MOE_ASSIGN_OR_RETURN(L.bk, optionalVector(src, p + "attn_k.bias", nKv));
        MOE_ASSIGN_OR_RETURN(L.bv, optionalVector(src, p + "attn_v.bias", nKv));
        if (s.qkNorm != "none") {
            MOE_ASSIGN_OR_RETURN(L.qNorm, src.vectorF32(p + "attn_q_norm.weight", qNormWidth));
            MOE_ASSIGN_OR_RETURN(L.kNorm, src.vectorF32(p + "attn_k_norm.weight", kNormWidth));
        }
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, src.vectorF32(p + "ffn_norm.weight", nEmbd));
        MOE_TRY(bindFfn(src, s, il, L.ffn));
    }
    return std::unique_ptr<FamilyForward>(std::move(fam));
}

} // namespace moe
