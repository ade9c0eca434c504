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
#include "models/linear.h"

#include <cmath>
#include <cstring>

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
    ops::WeightView kvB;                // [nh*(dn+dv), R] (HF, legacy GGUF); rows==0 when split
    std::vector<ops::WeightView> kB;    // per head [R, dn] (GGUF attn_k_b)
    std::vector<ops::WeightView> vB;    // per head [dv, R]
    ops::WeightView wo;                 // [H, nh*dv]
    const float* ffnNorm = nullptr;
    FfnLayer ffn;
};

class DeepseekFamily final : public FamilyForward {
public:
    ModelSpec spec;
    DecoderEnds ends;
    std::vector<MlaLayer> layers;
    ops::RopeFreqs freqs;
    float scale = 1.0f;

    KvGeometry kvGeometry() const override { return {spec.kvLoraRank + spec.qkRopeHeadDim, 0}; }

    Status forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                        const ForwardContext& ctx) const override;

private:
    void absorbQuery(const MlaLayer& L, const float* q, int nTok, float* qLat, ThreadPool* pool) const;
    void expandValues(const MlaLayer& L, const float* oLat, int nTok, float* att, ThreadPool* pool) const;
};

// q_lat[t, h, :R] = Wk_b[h]ᵀ q_nope[t, h]; q_lat[t, h, R:] = q_pe[t, h] (already roped).
void DeepseekFamily::absorbQuery(const MlaLayer& L, const float* q, int nTok, float* qLat, ThreadPool* pool) const {
    const ModelSpec& s = spec;
    const int nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim, R = s.kvLoraRank;
    const int64_t dq = dn + dr, lat = R + dr;
    std::vector<float> qn(size_t(nTok) * size_t(dn)), out(size_t(nTok) * size_t(R)), row(static_cast<size_t>(R));
    for (int h = 0; h < nh; ++h) {
        if (!L.kB.empty()) {
            for (int t = 0; t < nTok; ++t)
                std::memcpy(qn.data() + int64_t(t) * dn, q + int64_t(t) * nh * dq + h * dq, size_t(dn) * sizeof(float));
            linear(qn.data(), nTok, L.kB[size_t(h)], out.data(), pool);
        } else {
            // Rows h*(dn+dv) .. +dn of kv_b_proj are Wk_b[h] [dn, R]: accumulate q_nope[i] * row i.
            std::fill(out.begin(), out.end(), 0.0f);
            for (int i = 0; i < dn; ++i) {
                L.kvB.rowToF32(int64_t(h) * (dn + dv) + i, row.data());
                for (int t = 0; t < nTok; ++t) {
                    const float c = q[int64_t(t) * nh * dq + h * dq + i];
                    float* o = out.data() + int64_t(t) * R;
                    for (int r = 0; r < R; ++r) o[r] += c * row[size_t(r)];
                }
            }
        }
        for (int t = 0; t < nTok; ++t) {
            float* dst = qLat + (int64_t(t) * nh + h) * lat;
            std::memcpy(dst, out.data() + int64_t(t) * R, size_t(R) * sizeof(float));
            std::memcpy(dst + R, q + int64_t(t) * nh * dq + h * dq + dn, size_t(dr) * sizeof(float));
        }
    }
}

// att[t, h*dv .. ] = Wv_b[h] · o_lat[t, h].
void DeepseekFamily::expandValues(const MlaLayer& L, const float* oLat, int nTok, float* att, ThreadPool* pool) const {
    const ModelSpec& s = spec;
    const int nh = s.nHead, dn = s.qkNopeHeadDim, dv = s.vHeadDim, R = s.kvLoraRank;
    std::vector<float> in(size_t(nTok) * size_t(R)), out(size_t(nTok) * size_t(dv));
    for (int h = 0; h < nh; ++h) {
        for (int t = 0; t < nTok; ++t)
            std::memcpy(in.data() + int64_t(t) * R, oLat + (int64_t(t) * nh + h) * R, size_t(R) * sizeof(float));
        const ops::WeightView vb = L.vB.empty() ? L.kvB.rowsView(int64_t(h) * (dn + dv) + dn, dv) : L.vB[size_t(h)];
        linear(in.data(), nTok, vb, out.data(), pool);
        for (int t = 0; t < nTok; ++t)
            std::memcpy(att + int64_t(t) * nh * dv + int64_t(h) * dv, out.data() + int64_t(t) * dv,
                        size_t(dv) * sizeof(float));
    }
}

Status DeepseekFamily::forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
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
    const int nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim, R = s.kvLoraRank;
    const int64_t dq = dn + dr, lat = R + dr;
    if (routing) {
        routing->counts.assign(size_t(s.nLayer) * size_t(s.nExpert), 0);
        routing->weightSums.assign(routing->counts.size(), 0.0);
    }
    std::vector<float> n(h.size()), q(size_t(nTok) * size_t(nh) * size_t(dq)), ckv(size_t(nTok) * size_t(lat)),
        qLat(size_t(nTok) * size_t(nh) * size_t(lat)), oLat(size_t(nTok) * size_t(nh) * size_t(R)),
        att(size_t(nTok) * size_t(nh) * size_t(dv)), proj(h.size()), qa;
    ops::AttentionShape shape;
    shape.nHead = nh;
    shape.nHeadKv = 1;
    shape.dk = int(lat);
    shape.dv = R;
    shape.kStride = shape.vStride = lat;

    for (int il = 0; il < s.nLayer; ++il) {
        const MlaLayer& L = layers[size_t(il)];
        ops::rmsnorm(h.data(), L.attnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        if (s.qLoraRank > 0) {
            qa.resize(size_t(nTok) * size_t(s.qLoraRank));
            linear(n.data(), nTok, L.wqA, qa.data(), pool);
            ops::rmsnorm(qa.data(), L.qANorm, qa.data(), nTok, s.qLoraRank, kLatentNormEps);
            linear(qa.data(), nTok, L.wqB, q.data(), pool);
        } else {
            linear(n.data(), nTok, L.wq, q.data(), pool);
        }
        linear(n.data(), nTok, L.wkvA, ckv.data(), pool);
        for (int t = 0; t < nTok; ++t) // c only; k_pe stays un-normalized
            ops::rmsnorm(ckv.data() + t * lat, L.kvANorm, ckv.data() + t * lat, 1, R, kLatentNormEps);
        ops::ropeApply(ckv.data(), nTok, lat, 1, lat, R, dr, pos, freqs, true);
        ops::ropeApply(q.data(), nTok, nh * dq, nh, dq, dn, dr, pos, freqs, true);
        float* kc = cache.layerK(il);
        for (int t = 0; t < nTok; ++t)
            std::memcpy(kc + cache.row(batch.seq[size_t(t)], pos[t]) * lat, ckv.data() + int64_t(t) * lat,
                        size_t(lat) * sizeof(float));
        absorbQuery(L, q.data(), nTok, qLat.data(), pool);
        ops::attention(qLat.data(), kc, kc, oLat.data(), nTok, pos, pages, shape, scale, pool);
        expandValues(L, oLat.data(), nTok, att.data(), pool);
        linear(att.data(), nTok, L.wo, proj.data(), pool);
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];

        ops::rmsnorm(h.data(), L.ffnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        ffnForward(s, L.ffn, n.data(), nTok, proj.data(), ctx, il);
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];
    }
    outputLogits(s, ends, h, batch, n, logits, pool);
    return Status::ok();
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

Result<std::unique_ptr<FamilyForward>> bindDeepseekFamily(const WeightSource& src, const ModelSpec& s) {
    auto fam = std::make_unique<DeepseekFamily>();
    fam->spec = s;
    const int64_t H = s.nEmbd, nh = s.nHead, dn = s.qkNopeHeadDim, dr = s.qkRopeHeadDim, dv = s.vHeadDim,
                  R = s.kvLoraRank, dq = dn + dr;
    if (nh <= 0 || dn <= 0 || dr <= 0 || dr % 2 != 0 || dv <= 0 || R <= 0)
        return Status(StatusCode::CorruptFile, src.location() + ": MLA shape (heads " + std::to_string(nh) +
                                                   ", qk_nope " + std::to_string(dn) + ", qk_rope " +
                                                   std::to_string(dr) + ", v " + std::to_string(dv) +
                                                   ", kv_lora_rank " + std::to_string(R) + ") is inconsistent");
    auto freqs = ropeFreqsFor(s, int(dr));
    if (!freqs.isOk()) return Status(freqs.status().code(), src.location() + ": " + freqs.status().message());
    fam->freqs = std::move(freqs).value();
    fam->scale = deepseekSoftmaxScale(s);
    MOE_TRY(bindDecoderEnds(src, s, fam->ends));
    fam->layers.resize(size_t(s.nLayer));
    for (int il = 0; il < s.nLayer; ++il) {
        MlaLayer& L = fam->layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, src.vectorF32(p + "attn_norm.weight", H));
        if (s.qLoraRank > 0) {
            MOE_ASSIGN_OR_RETURN(L.wqA, src.matrix(p + "attn_q_a.weight", s.qLoraRank, H));
            MOE_ASSIGN_OR_RETURN(L.qANorm, src.vectorF32(p + "attn_q_a_norm.weight", s.qLoraRank));
            MOE_ASSIGN_OR_RETURN(L.wqB, src.matrix(p + "attn_q_b.weight", nh * dq, s.qLoraRank));
        } else {
            MOE_ASSIGN_OR_RETURN(L.wq, src.matrix(p + "attn_q.weight", nh * dq, H));
        }
        MOE_ASSIGN_OR_RETURN(L.wkvA, src.matrix(p + "attn_kv_a_mqa.weight", R + dr, H));
        MOE_ASSIGN_OR_RETURN(L.kvANorm, src.vectorF32(p + "attn_kv_a_norm.weight", R));
        if (src.find(p + "attn_k_b.weight")) {
            MOE_ASSIGN_OR_RETURN(ops::WeightView kb, src.stacked(p + "attn_k_b.weight", nh, R, dn));
            MOE_ASSIGN_OR_RETURN(ops::WeightView vb, src.stacked(p + "attn_v_b.weight", nh, dv, R));
            for (int64_t hh = 0; hh < nh; ++hh) {
                L.kB.push_back(kb.rowsView(hh * R, R));
                L.vB.push_back(vb.rowsView(hh * dv, dv));
            }
        } else {
            MOE_ASSIGN_OR_RETURN(L.kvB, src.matrix(p + "attn_kv_b.weight", nh * (dn + dv), R));
        }
        MOE_ASSIGN_OR_RETURN(L.wo, src.matrix(p + "attn_output.weight", H, nh * dv));
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, src.vectorF32(p + "ffn_norm.weight", H));
        MOE_TRY(bindFfn(src, s, il, L.ffn));
    }
    return std::unique_ptr<FamilyForward>(std::move(fam));
}

} // namespace moe
