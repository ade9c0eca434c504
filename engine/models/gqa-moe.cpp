// GQA-MoE forward on the CPU reference ops. Per layer:
//   h += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n)          n = rmsnorm(h, attn_norm)
//   h += Σ_j w_j · down_j(silu(gate_j·m) ⊙ up_j·m)              m = rmsnorm(h, ffn_norm)
// Experts are run grouped: the tokens routed to expert e are gathered and multiplied by e's
// matrices in one matmul, which is the shape of the grouped expert matmul of the GPU backends.
#include "models/gqa-moe.h"

#include "core/thread-pool.h"
#include "ops/quants/quants.h"
#include "models/kv-view.h"

#include <cmath>
#include <cstring>

namespace moe {

Status readGqaMoeSpec(const gguf::GgufFile& file, ModelSpec& spec) {
    const std::string a = spec.architecture;
    auto getPositive = [&](const std::string& key, int& out) -> Status {
        auto v = file.getInt(key);
        if (!v.isOk()) return v.status();
        if (*v <= 0 || *v > (int64_t(1) << 30))
            return Status(StatusCode::CorruptFile, file.path() + ": " + key + " = " +
                                                       std::to_string(*v) + " is out of range");
        out = int(*v);
        return Status::ok();
    };
    MOE_TRY(getPositive(a + ".embedding_length", spec.nEmbd));
    MOE_TRY(getPositive(a + ".block_count", spec.nLayer));
    MOE_TRY(getPositive(a + ".attention.head_count", spec.nHead));
    spec.nHeadKv = int(file.getInt(a + ".attention.head_count_kv", spec.nHead));
    MOE_TRY(getPositive(a + ".feed_forward_length", spec.nFf));
    MOE_TRY(getPositive(a + ".expert_count", spec.nExpert));
    MOE_TRY(getPositive(a + ".expert_used_count", spec.nExpertUsed));
    spec.nCtxTrain = int(file.getInt(a + ".context_length", 4096));
    spec.ropeTheta = float(file.getNumber(a + ".rope.freq_base", 10000.0));
    spec.rmsEps = float(file.getNumber(a + ".attention.layer_norm_rms_epsilon", 1e-5));
    if (spec.nEmbd % spec.nHead != 0)
        return Status(StatusCode::CorruptFile, file.path() + ": embedding_length " +
                                                   std::to_string(spec.nEmbd) + " is not a multiple of head_count " +
                                                   std::to_string(spec.nHead));
    spec.headDim = int(file.getInt(a + ".attention.key_length", spec.nEmbd / spec.nHead));
    if (spec.nHeadKv <= 0 || spec.nHead % spec.nHeadKv != 0)
        return Status(StatusCode::CorruptFile, file.path() + ": head_count " + std::to_string(spec.nHead) +
                                                   " is not a multiple of head_count_kv " +
                                                   std::to_string(spec.nHeadKv));
    if (spec.nExpertUsed > spec.nExpert)
        return Status(StatusCode::CorruptFile, file.path() + ": expert_used_count " +
                                                   std::to_string(spec.nExpertUsed) + " exceeds expert_count " +
                                                   std::to_string(spec.nExpert));
    if (spec.headDim % 2 != 0 || spec.headDim <= 0)
        return Status(StatusCode::CorruptFile, file.path() + ": head dimension " +
                                                   std::to_string(spec.headDim) + " must be even");
    spec.ropeInterleaved = true; // convert_hf_to_gguf.py permuted q/k rows to interleaved (§9.8)
    spec.nRot = int(file.getInt(a + ".rope.dimension_count", spec.headDim));
    if (spec.nRot != spec.headDim)
        return Status(StatusCode::Unsupported, file.path() + ": " + a + ".rope.dimension_count " +
                                                   std::to_string(spec.nRot) + " differs from the head dimension " +
                                                   std::to_string(spec.headDim) + " (partial rotary is not in this family)");
    spec.normTopkProb = true; // llama-arch MoE: softmax + renormalization (§9.9)
    spec.tieWordEmbeddings = file.tensor("output.weight") == nullptr;
    return Status::ok();
}

namespace {

// Experts of one kind ("ffn_gate"): a stacked blk.L.<kind>_exps.weight [nExp, rows, cols] when the
// source has one (GGUF), else blk.L.<kind>.E.weight [rows, cols] per expert (HF, legacy GGUF).
Status bindExperts(const WeightSource& src, const std::string& blk, const std::string& kind, int64_t nExp,
                   int64_t rows, int64_t cols, std::vector<ops::WeightView>& out) {
    out.clear();
    const std::string stackedName = blk + kind + "_exps.weight";
    if (src.find(stackedName)) {
        MOE_ASSIGN_OR_RETURN(ops::WeightView all, src.stacked(stackedName, nExp, rows, cols));
        for (int64_t e = 0; e < nExp; ++e) out.push_back(all.rowsView(e * rows, rows));
        return Status::ok();
    }
    for (int64_t e = 0; e < nExp; ++e) {
        MOE_ASSIGN_OR_RETURN(ops::WeightView v, src.matrix(blk + kind + "." + std::to_string(e) + ".weight", rows, cols));
        out.push_back(v);
    }
    return Status::ok();
}

} // namespace

Status bindGqaMoeWeights(const WeightSource& src, const ModelSpec& s, GqaMoeWeights& w) {
    const int64_t nEmbd = s.nEmbd, nQ = int64_t(s.nHead) * s.headDim, nKv = int64_t(s.nHeadKv) * s.headDim,
                  nFf = s.nFf, nExp = s.nExpert, nVocab = s.nVocab;
    MOE_ASSIGN_OR_RETURN(w.tokenEmbd, src.matrix("token_embd.weight", nVocab, nEmbd));
    MOE_ASSIGN_OR_RETURN(w.outputNorm, src.vectorF32("output_norm.weight", nEmbd));
    if (src.find("output.weight")) {
        MOE_ASSIGN_OR_RETURN(w.output, src.matrix("output.weight", nVocab, nEmbd));
    } else {
        w.output = w.tokenEmbd; // tied embeddings (§1.6)
    }
    w.layers.resize(size_t(s.nLayer));
    for (int il = 0; il < s.nLayer; ++il) {
        GqaMoeLayer& L = w.layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, src.vectorF32(p + "attn_norm.weight", nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wq, src.matrix(p + "attn_q.weight", nQ, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wk, src.matrix(p + "attn_k.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wv, src.matrix(p + "attn_v.weight", nKv, nEmbd));
        MOE_ASSIGN_OR_RETURN(L.wo, src.matrix(p + "attn_output.weight", nEmbd, nQ));
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, src.vectorF32(p + "ffn_norm.weight", nEmbd));
        MOE_ASSIGN_OR_RETURN(L.router, src.matrix(p + "ffn_gate_inp.weight", nExp, nEmbd));
        MOE_TRY(bindExperts(src, p, "ffn_gate", nExp, nFf, nEmbd, L.gateExp));
        MOE_TRY(bindExperts(src, p, "ffn_up", nExp, nFf, nEmbd, L.upExp));
        MOE_TRY(bindExperts(src, p, "ffn_down", nExp, nEmbd, nFf, L.downExp));
    }
    return Status::ok();
}

Status gqaMoeForward(const ModelSpec& s, const GqaMoeWeights& w, KvView& cache,
                     std::span<const int32_t> tokens, int pos0, bool lastOnly,
                     std::vector<float>& logits, ThreadPool* pool, RoutingCounts* routing) {
    const int nTok = int(tokens.size());
    if (nTok == 0) return Status(StatusCode::InvalidArgument, "forward: no tokens");
    if (pos0 < 0 || pos0 + nTok > cache.capacity())
        return Status(StatusCode::InvalidArgument,
                      "forward: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + nTok - 1) +
                          " exceed the context size " + std::to_string(cache.capacity()));
    for (int32_t id : tokens)
        if (id < 0 || id >= s.nVocab)
            return Status(StatusCode::InvalidArgument, "forward: token id " + std::to_string(id) +
                                                           " is outside the vocabulary (" +
                                                           std::to_string(s.nVocab) + ")");
    const int64_t nEmbd = s.nEmbd, nQ = int64_t(s.nHead) * s.headDim,
                  nKv = int64_t(s.nHeadKv) * s.headDim, nFf = s.nFf;
    const int k = s.nExpertUsed;
    if (routing) routing->counts.assign(size_t(s.nLayer) * size_t(s.nExpert), 0);

    std::vector<float> h(size_t(nTok * nEmbd)), n(h.size()), q(size_t(nTok * nQ)),
        kk(size_t(nTok * nKv)), vv(size_t(nTok * nKv)), att(q.size()), proj(h.size());
    std::vector<float> rlogits(size_t(nTok) * s.nExpert), rw(size_t(nTok) * k);
    std::vector<int32_t> rid(size_t(nTok) * k), pos(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) {
        pos[size_t(t)] = pos0 + t;
        w.tokenEmbd.rowToF32(tokens[size_t(t)], h.data() + t * nEmbd);
    }
    const float scale = 1.0f / std::sqrt(float(s.headDim));

    for (int il = 0; il < s.nLayer; ++il) {
        const GqaMoeLayer& L = w.layers[size_t(il)];
        // Attention block.
        ops::rmsnorm(h.data(), L.attnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        ops::matmul(n.data(), nTok, L.wq, q.data(), pool);
        ops::matmul(n.data(), nTok, L.wk, kk.data(), pool);
        ops::matmul(n.data(), nTok, L.wv, vv.data(), pool);
        // GGUF llama rows are interleaved, HF checkpoint rows half-rotation (§1.3).
        ops::rope(q.data(), nTok, s.nHead, s.headDim, s.headDim, pos.data(), s.ropeTheta, s.ropeInterleaved);
        ops::rope(kk.data(), nTok, s.nHeadKv, s.headDim, s.headDim, pos.data(), s.ropeTheta, s.ropeInterleaved);
        float* kc = cache.layerK(il);
        float* vc = cache.layerV(il);
        std::memcpy(kc + pos0 * nKv, kk.data(), kk.size() * sizeof(float));
        std::memcpy(vc + pos0 * nKv, vv.data(), vv.size() * sizeof(float));
        ops::attention(q.data(), kc, vc, att.data(), nTok, pos0, s.nHead, s.nHeadKv, s.headDim, scale, pool);
        ops::matmul(att.data(), nTok, L.wo, proj.data(), pool);
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];

        // MoE block: route, then run each expert once over the tokens routed to it.
        ops::rmsnorm(h.data(), L.ffnNorm, n.data(), nTok, s.nEmbd, s.rmsEps);
        ops::matmul(n.data(), nTok, L.router, rlogits.data(), pool);
        ops::routerSoftmaxTopK(rlogits.data(), nTok, s.nExpert, k, true, rid.data(), rw.data());
        std::fill(proj.begin(), proj.end(), 0.0f);
        std::vector<int> rowsOf; // slot indices (t * k + j) routed to expert e
        std::vector<float> xs, gate, up, act, down;
        for (int e = 0; e < s.nExpert; ++e) {
            rowsOf.clear();
            for (int slot = 0; slot < nTok * k; ++slot)
                if (rid[size_t(slot)] == e) rowsOf.push_back(slot);
            if (rowsOf.empty()) continue;
            if (routing) routing->counts[size_t(il) * s.nExpert + e] += int64_t(rowsOf.size());
            const int m = int(rowsOf.size());
            xs.resize(size_t(m * nEmbd));
            for (int r = 0; r < m; ++r)
                std::memcpy(xs.data() + r * nEmbd, n.data() + (rowsOf[size_t(r)] / k) * nEmbd,
                            size_t(nEmbd) * sizeof(float));
            gate.resize(size_t(m * nFf));
            up.resize(gate.size());
            act.resize(gate.size());
            down.resize(size_t(m * nEmbd));
            ops::matmul(xs.data(), m, L.gateExp[size_t(e)], gate.data(), pool);
            ops::matmul(xs.data(), m, L.upExp[size_t(e)], up.data(), pool);
            ops::swiglu(gate.data(), up.data(), act.data(), int64_t(act.size()));
            ops::matmul(act.data(), m, L.downExp[size_t(e)], down.data(), pool);
            for (int r = 0; r < m; ++r) {
                const int slot = rowsOf[size_t(r)];
                const float wgt = rw[size_t(slot)];
                float* dst = proj.data() + (slot / k) * nEmbd;
                const float* src = down.data() + r * nEmbd;
                for (int64_t i = 0; i < nEmbd; ++i) dst[i] += wgt * src[i];
            }
        }
        for (size_t i = 0; i < h.size(); ++i) h[i] += proj[i];
    }

    const int first = lastOnly ? nTok - 1 : 0;
    const int rows = nTok - first;
    ops::rmsnorm(h.data() + first * nEmbd, w.outputNorm, n.data(), rows, s.nEmbd, s.rmsEps);
    logits.resize(size_t(rows) * size_t(s.nVocab));
    ops::matmul(n.data(), rows, w.output, logits.data(), pool);
    return Status::ok();
}

} // namespace moe
