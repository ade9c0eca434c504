// GQA family forward as backend op calls. Per layer:
//   n = rmsnorm(h, attn_norm)
//   q, k, v = Wq·n (+bq), Wk·n (+bk), Wv·n (+bv);  q, k = qknorm(q, k);  q, k = rope(q, k)
//   cache[rows] = k, v;  h += Wo · attention(q, K cache, V cache)
//   h += FFN(rmsnorm(h, ffn_norm))                   dense MLP or MoE block (ffn.h)
#include "models/gqa-moe.h"

#include "models/ffn.h"

#include <cmath>

namespace moe {

Result<RoutingScratch> beginRouting(const ModelSpec& s, const ForwardContext& ctx) {
    RoutingScratch r;
    if (!ctx.routing || s.nExpert <= 0) return r;
    const size_t n = size_t(s.nLayer) * size_t(s.nExpert);
    MOE_ASSIGN_OR_RETURN(void* counts, ctx.ws->get("stats.counts", n * sizeof(int64_t)));
    MOE_ASSIGN_OR_RETURN(void* sums, ctx.ws->get("stats.sums", n * sizeof(double)));
    r.counts = static_cast<int64_t*>(counts);
    r.sums = static_cast<double*>(sums);
    const std::vector<int64_t> zeros(n, 0);
    const std::vector<double> zerosD(n, 0.0);
    MOE_TRY(ctx.ws->backend().upload(r.counts, zeros.data(), n * sizeof(int64_t)));
    MOE_TRY(ctx.ws->backend().upload(r.sums, zerosD.data(), n * sizeof(double)));
    return r;
}

Status endRouting(const ModelSpec& s, const ForwardContext& ctx, const RoutingScratch& r) {
    if (!ctx.routing) return Status::ok();
    const size_t n = size_t(s.nLayer) * size_t(std::max(s.nExpert, 0));
    ctx.routing->counts.assign(n, 0);
    ctx.routing->weightSums.assign(n, 0.0);
    if (!r.counts) return Status::ok();
    MOE_TRY(ctx.ws->backend().download(ctx.routing->counts.data(), r.counts, n * sizeof(int64_t)));
    return ctx.ws->backend().download(ctx.routing->weightSums.data(), r.sums, n * sizeof(double));
}

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
    RopeTable rope;
    BackendMemory ropeMemory;

    KvGeometry kvGeometry() const override {
        const int w = spec.nHeadKv * spec.headDim;
        return {w, w};
    }

    Status forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                        const ForwardContext& ctx) const override;
};

Status GqaFamily::forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                               const ForwardContext& ctx) const {
    const ModelSpec& s = spec;
    Workspace& ws = *ctx.ws;
    ComputeBackend& be = ws.backend();
    const int nTok = int(batch.tokens.size());
    const int64_t nEmbd = s.nEmbd, hd = s.headDim, nQ = s.nHead * hd, nKv = s.nHeadKv * hd;
    const size_t T = size_t(nTok);
    MOE_ASSIGN_OR_RETURN(float* h, ws.floats("h", T * size_t(nEmbd)));
    MOE_ASSIGN_OR_RETURN(float* n, ws.floats("n", T * size_t(nEmbd)));
    MOE_ASSIGN_OR_RETURN(float* proj, ws.floats("proj", T * size_t(nEmbd)));
    MOE_ASSIGN_OR_RETURN(float* q, ws.floats("q", T * size_t(nQ)));
    MOE_ASSIGN_OR_RETURN(float* att, ws.floats("att", T * size_t(nQ)));
    MOE_ASSIGN_OR_RETURN(float* kk, ws.floats("k", T * size_t(nKv)));
    MOE_ASSIGN_OR_RETURN(float* vv, ws.floats("v", T * size_t(nKv)));
    MOE_ASSIGN_OR_RETURN(BatchInputs in, prepareBatch(s, ends, cache, batch, ws, h));
    MOE_ASSIGN_OR_RETURN(RoutingScratch stats, beginRouting(s, ctx));
    ops::AttentionShape shape;
    shape.nHead = s.nHead;
    shape.nHeadKv = s.nHeadKv;
    shape.dk = shape.dv = int(hd);
    shape.kStride = shape.vStride = nKv;
    shape.window = ctx.slidingWindow >= 0 ? ctx.slidingWindow : s.slidingWindow;
    const float scale = 1.0f / std::sqrt(float(hd));

    for (int il = 0; il < s.nLayer; ++il) {
        const GqaLayer& L = layers[size_t(il)];
        be.rmsnorm(h, nEmbd, L.attnNorm, n, nEmbd, nTok, int(nEmbd), s.rmsEps);
        be.matmul(n, nTok, L.wq, q);
        be.matmul(n, nTok, L.wk, kk);
        be.matmul(n, nTok, L.wv, vv);
        if (L.bq) be.addRows(q, L.bq, nTok, nQ);
        if (L.bk) be.addRows(kk, L.bk, nTok, nKv);
        if (L.bv) be.addRows(vv, L.bv, nTok, nKv);
        if (s.qkNorm == "head") { // Qwen3: RMS over each head's vector, weights shared by heads
            be.rmsnorm(q, hd, L.qNorm, q, hd, nTok * s.nHead, int(hd), s.rmsEps);
            be.rmsnorm(kk, hd, L.kNorm, kk, hd, nTok * s.nHeadKv, int(hd), s.rmsEps);
        } else if (s.qkNorm == "full") { // OLMoE: RMS over the whole q (k) vector, before the split
            be.rmsnorm(q, nQ, L.qNorm, q, nQ, nTok, int(nQ), s.rmsEps);
            be.rmsnorm(kk, nKv, L.kNorm, kk, nKv, nTok, int(nKv), s.rmsEps);
        }
        be.rope(q, nTok, nQ, s.nHead, hd, 0, s.nRot, in.pos, rope, s.ropeInterleaved);
        be.rope(kk, nTok, nKv, s.nHeadKv, hd, 0, s.nRot, in.pos, rope, s.ropeInterleaved);
        float* kc = cache.layerK(il);
        float* vc = cache.layerV(il);
        be.scatterRows(kc, kk, in.cacheRows, nTok, nKv);
        be.scatterRows(vc, vv, in.cacheRows, nTok, nKv);
        be.attention(q, kc, vc, att, nTok, in.pos, in.paged, shape, scale);
        be.matmul(att, nTok, L.wo, proj);
        be.add(h, proj, int64_t(T) * nEmbd);

        be.rmsnorm(h, nEmbd, L.ffnNorm, n, nEmbd, nTok, int(nEmbd), s.rmsEps);
        MOE_TRY(ffnForward(s, L.ffn, n, nTok, proj, ctx, il, stats.counts, stats.sums));
        be.add(h, proj, int64_t(T) * nEmbd);
    }
    MOE_TRY(endRouting(s, ctx, stats));
    return outputLogits(s, ends, h, in, ws, logits);
}

} // namespace

Result<std::unique_ptr<FamilyForward>> bindGqaFamily(const WeightSource& src, const ModelSpec& s, ComputeBackend& dev) {
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
    auto rope = residentRope(s, fam->spec.nRot, dev, fam->ropeMemory);
    if (!rope.isOk()) return Status(rope.status().code(), src.location() + ": " + rope.status().message());
    fam->rope = *rope;
    MOE_TRY(bindDecoderEnds(src, s, dev, fam->ends));
    fam->layers.resize(size_t(s.nLayer));
    const int64_t qNormWidth = s.qkNorm == "full" ? nQ : hd, kNormWidth = s.qkNorm == "full" ? nKv : hd;
    for (int il = 0; il < s.nLayer; ++il) {
        GqaLayer& L = fam->layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, residentVector(src, dev, p + "attn_norm.weight", nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wq, residentMatrix(src, dev, p + "attn_q.weight", nQ, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wk, residentMatrix(src, dev, p + "attn_k.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wv, residentMatrix(src, dev, p + "attn_v.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wo, residentMatrix(src, dev, p + "attn_output.weight", nEmbd, nQ));
        MOE_ASSIGN_OR_RETURN(L.bq, residentOptionalVector(src, dev, p + "attn_q.bias", nQ));
        MOE_ASSIGN_OR_RETURN(L.bk, residentOptionalVector(src, dev, p + "attn_k.bias", nKv));
        MOE_ASSIGN_OR_RETURN(L.bv, residentOptionalVector(src, dev, p + "attn_v.bias", nKv));
        if (s.qkNorm != "none") {
            MOE_ASSIGN_OR_RETURN(L.qNorm, residentVector(src, dev, p + "attn_q_norm.weight", qNormWidth));
            MOE_ASSIGN_OR_RETURN(L.kNorm, residentVector(src, dev, p + "attn_k_norm.weight", kNormWidth));
        }
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, residentVector(src, dev, p + "ffn_norm.weight", nEmbd));
        MOE_TRY(bindFfn(src, s, dev, il, L.ffn));
    }
    return std::unique_ptr<FamilyForward>(std::move(fam));
}

} // namespace moe
