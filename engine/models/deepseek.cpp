// DeepSeek forward (absorbed MLA) on the reference ops. Per layer, for tokens t and heads h:
//   n = rmsnorm(h, attn_norm)
//   q = Wq·n  or  Wq_b · rmsnorm(Wq_a·n)                    [nh, dn + dr]: q_nope | q_pe
//   [c | k_pe] = Wkv_a·n;  c = rmsnorm(c, kv_a_norm);  k_pe = rope(k_pe)   -> cache row [c | k_pe]
//   q_lat[h] = [Wk_b[h]ᵀ q_nope[h] | rope(q_pe[h])]          (R + dr)
//   o_lat[h] = Σ_j softmax(q_lat[h] · row_j · scale) c_j      (R)
//   h += Wo · [Wv_b[h] o_lat[h]]_h
//   h += FFN(rmsnorm(h, ffn_norm))                            dense for the first k layers, else MoE
#include "models/deepseek.h"

#include "models/ffn.h"
#include "models/gqa-moe.h"

#include <cmath>

namespace moe {

namespace {

// q_a_layernorm and kv_a_layernorm are built by HF without the config's eps: the class
// default 1e-6 (§1.1).
constexpr float kLatentNormEps = 1e-6f;

struct MlaLayer {
    const float* attnNorm = nullptr;
    ops::WeightView wq;                 // [nh*dq, H] (no q_lora)
    ops::WeightView wqA, wqB;           // [Rq, H], [nh*dq, Rq]
    const float* qANorm = nullptr;      // [Rq]
    ops::WeightView wkvA;               // [R + dr, H]
    const float* kvANorm = nullptr;     // [R]
    ops::WeightView kvB;                // [nh*(dn+dv), R] (HF, legacy GGUF); data null when split
    ops::WeightView kB;                 // GGUF attn_k_b: head 0 [R, dn], heads R rows apart; null with kvB
    ops::WeightView vB;                 // GGUF attn_v_b: head 0 [dv, R], heads dv rows apart
    ops::WeightView wo;                 // [H, nh*dv]
    const float* ffnNorm = nullptr;
    FfnLayer ffn;
};

class DeepseekFamily final : public FamilyForward {
public:
    ModelSpec spec;
    DecoderEnds ends;
    std::vector<MlaLayer> layers;
    RopeTable rope;
    BackendMemory ropeMemory;
    float scale = 1.0f;

    KvGeometry kvGeometry() const override { return {spec.kvLoraRank + spec.qkRopeHeadDim, 0}; }

    Status forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                        const ForwardContext& ctx) const override;
};

Status DeepseekFamily::forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                                    const ForwardContext& ctx) const {
    const ModelSpec& s = spec;
    Workspace& ws = *ctx.ws;
    ComputeBackend& be = ws.backend();
    const int nTok = int(batch.tokens.size());
    const int nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim, R = s.kvLoraRank;
    const int64_t H = s.nEmbd, dq = dn + dr, lat = R + dr;
    const size_t T = size_t(nTok);
    MOE_ASSIGN_OR_RETURN(float* h, ws.floats("h", T * size_t(H)));
    MOE_ASSIGN_OR_RETURN(float* n, ws.floats("n", T * size_t(H)));
    MOE_ASSIGN_OR_RETURN(float* proj, ws.floats("proj", T * size_t(H)));
    MOE_ASSIGN_OR_RETURN(float* q, ws.floats("q", T * size_t(nh) * size_t(dq)));
    MOE_ASSIGN_OR_RETURN(float* qa, ws.floats("qa", T * size_t(std::max(s.qLoraRank, 1))));
    MOE_ASSIGN_OR_RETURN(float* ckv, ws.floats("ckv", T * size_t(lat)));
    MOE_ASSIGN_OR_RETURN(float* qLat, ws.floats("qLat", T * size_t(nh) * size_t(lat)));
    MOE_ASSIGN_OR_RETURN(float* oLat, ws.floats("oLat", T * size_t(nh) * size_t(R)));
    MOE_ASSIGN_OR_RETURN(float* att, ws.floats("att", T * size_t(nh) * size_t(dv)));
    MOE_ASSIGN_OR_RETURN(BatchInputs in, prepareBatch(s, ends, cache, batch, ws, h));
    MOE_ASSIGN_OR_RETURN(RoutingScratch stats, beginRouting(s, ctx));
    ops::AttentionShape shape; // MQA over the latent rows: K = [c | k_pe], V = c
    shape.nHead = nh;
    shape.nHeadKv = 1;
    shape.dk = int(lat);
    shape.dv = R;
    shape.kStride = shape.vStride = lat;
    shape.window = ctx.slidingWindow >= 0 ? ctx.slidingWindow : s.slidingWindow;

    for (int il = 0; il < s.nLayer; ++il) {
        const MlaLayer& L = layers[size_t(il)];
        be.rmsnorm(h, H, L.attnNorm, n, H, nTok, int(H), s.rmsEps);
        if (s.qLoraRank > 0) {
            be.matmul(n, nTok, L.wqA, qa);
            be.rmsnorm(qa, s.qLoraRank, L.qANorm, qa, s.qLoraRank, nTok, s.qLoraRank, kLatentNormEps);
            be.matmul(qa, nTok, L.wqB, q);
        } else {
            be.matmul(n, nTok, L.wq, q);
        }
        be.matmul(n, nTok, L.wkvA, ckv);
        be.rmsnorm(ckv, lat, L.kvANorm, ckv, lat, nTok, R, kLatentNormEps); // c only; k_pe stays as is
        be.rope(ckv, nTok, lat, 1, lat, R, dr, in.pos, rope, true);
        be.rope(q, nTok, nh * dq, nh, dq, dn, dr, in.pos, rope, true);
        float* kc = cache.layerK(il);
        be.scatterRows(kc, ckv, in.cacheRows, nTok, lat);
        // Absorb: q_lat[t, h] = [Wk_b[h]ᵀ q_nope[t, h] | q_pe[t, h]], all heads in one op.
        if (L.kB.data)
            be.headMatmul(q, nh * dq, dq, nTok, nh, L.kB, R, false, qLat, nh * lat, lat);
        else // rows hh*(dn+dv) .. +dn of kv_b_proj are Wk_b[hh] [dn, R]
            be.headMatmul(q, nh * dq, dq, nTok, nh, L.kvB.rowsView(0, dn), dn + dv, true, qLat, nh * lat, lat);
        // q_pe of (t, h) is row t*nh + h of q (stride dq) and of q_lat (stride lat).
        be.copy2d(qLat + R, lat, q + dn, dq, nTok * nh, dr);
        be.attention(qLat, kc, kc, oLat, nTok, in.pos, in.paged, shape, scale);
        // Expand: att[t, h] = Wv_b[h] · o_lat[t, h].
        if (L.vB.data)
            be.headMatmul(oLat, int64_t(nh) * R, R, nTok, nh, L.vB, dv, false, att, int64_t(nh) * dv, dv);
        else // rows hh*(dn+dv) + dn .. +dv of kv_b_proj are Wv_b[hh] [dv, R]
            be.headMatmul(oLat, int64_t(nh) * R, R, nTok, nh, L.kvB.rowsView(dn, dv), dn + dv, false, att,
                          int64_t(nh) * dv, dv);
        be.matmul(att, nTok, L.wo, proj);
        be.add(h, proj, int64_t(T) * H);

        be.rmsnorm(h, H, L.ffnNorm, n, H, nTok, int(H), s.rmsEps);
        MOE_TRY(ffnForward(s, L.ffn, n, nTok, proj, ctx, il, stats.counts, stats.sums));
        be.add(h, proj, int64_t(T) * H);
    }
    MOE_TRY(endRouting(s, ctx, stats));
    return outputLogits(s, ends, h, in, ws, logits);
}

} // namespace

float deepseekSoftmaxScale(const ModelSpec& s) {
    float scale = 1.0f / std::sqrt(float(s.qkNopeHeadDim + s.qkRopeHeadDim));
    const RopeScaling& r = s.ropeScaling;
    if (r.type != "none" && r.mscaleAllDim != 0.0f) {
        const float m = ops::yarnMscale(r.factor, r.mscaleAllDim);
        scale *= m * m;
    }
    return scale;
}

Result<std::unique_ptr<FamilyForward>> bindDeepseekFamily(const WeightSource& src, const ModelSpec& s,
                                                          ComputeBackend& dev) {
    auto fam = std::make_unique<DeepseekFamily>();
    fam->spec = s;
    const int64_t H = s.nEmbd, nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim,
                  R = s.kvLoraRank, dq = dn + dr;
    if (nh <= 0 || dn <= 0 || dr <= 0 || dr % 2 != 0 || dv <= 0 || R <= 0)
        return Status(StatusCode::CorruptFile, src.location() + ": MLA shape (heads " + std::to_string(nh) +
                                                   ", qk_nope " + std::to_string(dn) + ", qk_rope " +
                                                   std::to_string(dr) + ", v " + std::to_string(dv) +
                                                   ", kv_lora_rank " + std::to_string(R) + ") is inconsistent");
    auto rope = residentRope(s, int(dr), dev, fam->ropeMemory);
    if (!rope.isOk()) return Status(rope.status().code(), src.location() + ": " + rope.status().message());
    fam->rope = *rope;
    fam->scale = deepseekSoftmaxScale(s);
    MOE_TRY(bindDecoderEnds(src, s, dev, fam->ends));
    fam->layers.resize(size_t(s.nLayer));
    for (int il = 0; il < s.nLayer; ++il) {
        MlaLayer& L = fam->layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, residentVector(src, dev, p + "attn_norm.weight", H));
        if (s.qLoraRank > 0) {
            MOE_ASSIGN_OR_RETURN(L.wqA, residentMatrix(src, dev, p + "attn_q_a.weight", s.qLoraRank, H));
            MOE_ASSIGN_OR_RETURN(L.qANorm, residentVector(src, dev, p + "attn_q_a_norm.weight", s.qLoraRank));
            MOE_ASSIGN_OR_RETURN(L.wqB, residentMatrix(src, dev, p + "attn_q_b.weight", nh * dq, s.qLoraRank));
        } else {
            MOE_ASSIGN_OR_RETURN(L.wq, residentMatrix(src, dev, p + "attn_q.weight", nh * dq, H));
        }
        MOE_ASSIGN_OR_RETURN(L.wkvA, residentMatrix(src, dev, p + "attn_kv_a_mqa.weight", R + dr, H));
        MOE_ASSIGN_OR_RETURN(L.kvANorm, residentVector(src, dev, p + "attn_kv_a_norm.weight", R));
        if (src.find(p + "attn_k_b.weight")) {
            MOE_ASSIGN_OR_RETURN(ops::WeightView kb, src.stacked(p + "attn_k_b.weight", nh, R, dn));
            MOE_ASSIGN_OR_RETURN(ops::WeightView vb, src.stacked(p + "attn_v_b.weight", nh, dv, R));
            MOE_ASSIGN_OR_RETURN(kb, dev.residentWeight(kb));
            MOE_ASSIGN_OR_RETURN(vb, dev.residentWeight(vb));
            L.kB = kb.rowsView(0, R);
            L.vB = vb.rowsView(0, dv);
        } else {
            MOE_ASSIGN_OR_RETURN(L.kvB, residentMatrix(src, dev, p + "attn_kv_b.weight", nh * (dn + dv), R));
        }
        MOE_ASSIGN_OR_RETURN(L.wo, residentMatrix(src, dev, p + "attn_output.weight", H, nh * dv));
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, residentVector(src, dev, p + "ffn_norm.weight", H));
        MOE_TRY(bindFfn(src, s, dev, il, L.ffn));
    }
    return std::unique_ptr<FamilyForward>(std::move(fam));
}

} // namespace moe
