// Dense and MoE feed-forward blocks; see ffn.h.
#include "models/ffn.h"

#include "models/linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace moe {

bool isMoeLayer(const ModelSpec& s, int il) {
    if (s.nExpert <= 0) return false;
    if (s.family == "deepseek") return il >= s.firstKDenseReplace;
    if (std::find(s.mlpOnlyLayers.begin(), s.mlpOnlyLayers.end(), il) != s.mlpOnlyLayers.end()) return false;
    const int step = std::max(s.decoderSparseStep, 1);
    return (il + 1) % step == 0;
}

namespace {

Status bindMlp(const WeightSource& src, const std::string& p, const std::string& suffix, int64_t nEmbd,
               int64_t nFf, DenseMlp& m) {
    MOE_ASSIGN_OR_RETURN(m.gate, src.matrix(p + "ffn_gate" + suffix + ".weight", nFf, nEmbd));
    MOE_ASSIGN_OR_RETURN(m.up, src.matrix(p + "ffn_up" + suffix + ".weight", nFf, nEmbd));
    MOE_ASSIGN_OR_RETURN(m.down, src.matrix(p + "ffn_down" + suffix + ".weight", nEmbd, nFf));
    return Status::ok();
}

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

// Keeps, per token, the fewest chosen experts (by descending weight) whose weights reach
// threshold x their sum; the rest get id -1. Renormalizes the kept weights to the original sum
// when the model normalizes its top-k weights.
void applyThreshold(std::vector<int32_t>& ids, std::vector<float>& w, int nTok, int k, float threshold,
                    bool renormalize) {
    std::vector<int> order(static_cast<size_t>(k));
    for (int t = 0; t < nTok; ++t) {
        int32_t* id = ids.data() + int64_t(t) * k;
        float* wt = w.data() + int64_t(t) * k;
        for (int j = 0; j < k; ++j) order[size_t(j)] = j;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return wt[a] > wt[b]; });
        float total = 0;
        for (int j = 0; j < k; ++j) total += wt[j];
        float acc = 0;
        int kept = 0;
        while (kept < k && acc < threshold * total) acc += wt[order[size_t(kept++)]];
        kept = std::max(kept, 1);
        if (kept == k) continue; // nothing dropped: the weights stay bit for bit the model's
        float keptSum = 0;
        for (int j = 0; j < kept; ++j) keptSum += wt[order[size_t(j)]];
        for (int j = kept; j < k; ++j) {
            id[order[size_t(j)]] = -1;
            wt[order[size_t(j)]] = 0;
        }
        if (renormalize && keptSum > 0)
            for (int j = 0; j < kept; ++j) wt[order[size_t(j)]] *= total / keptSum;
    }
}

void runMlp(const DenseMlp& m, const float* x, int nTok, float* out, ThreadPool* pool) {
    const int64_t nFf = m.gate.rows;
    std::vector<float> gate(size_t(nTok) * size_t(nFf)), up(gate.size());
    linear(x, nTok, m.gate, gate.data(), pool);
    linear(x, nTok, m.up, up.data(), pool);
    ops::swiglu(gate.data(), up.data(), gate.data(), int64_t(gate.size()));
    linear(gate.data(), nTok, m.down, out, pool);
}

} // namespace

Status bindFfn(const WeightSource& src, const ModelSpec& s, int il, FfnLayer& f) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const int64_t nEmbd = s.nEmbd;
    f.moe = isMoeLayer(s, il);
    if (!f.moe) {
        const int64_t nFf = s.nFfDense > 0 ? s.nFfDense : s.nFf;
        return bindMlp(src, p, "", nEmbd, nFf, f.dense);
    }
    const int64_t nExp = s.nExpert;
    MOE_ASSIGN_OR_RETURN(f.router, src.matrix(p + "ffn_gate_inp.weight", nExp, nEmbd));
    if (src.find(p + "exp_probs_b.bias")) {
        MOE_ASSIGN_OR_RETURN(f.routerBias, src.vectorF32(p + "exp_probs_b.bias", nExp));
    } else if (s.topkMethod == "noaux_tc") {
        return Status(StatusCode::CorruptFile, src.location() + ": tensor '" + p +
                                                   "exp_probs_b.bias' (e_score_correction_bias) is missing; "
                                                   "noaux_tc routing needs it");
    }
    MOE_TRY(bindExperts(src, p, "ffn_gate", nExp, s.nFf, nEmbd, f.gateExp));
    MOE_TRY(bindExperts(src, p, "ffn_up", nExp, s.nFf, nEmbd, f.upExp));
    MOE_TRY(bindExperts(src, p, "ffn_down", nExp, nEmbd, s.nFf, f.downExp));
    if (s.nFfShared > 0) {
        MOE_TRY(bindMlp(src, p, "_shexp", nEmbd, s.nFfShared, f.shared));
        if (s.sharedExpertGate) {
            const std::string g = p + "ffn_gate_inp_shexp.weight";
            const WeightEntry* e = src.find(g);
            // HF stores the gate as a [1, nEmbd] linear, GGUF as a [nEmbd] vector.
            if (e && e->shape.size() == 2) {
                MOE_ASSIGN_OR_RETURN(ops::WeightView v, src.matrix(g, 1, nEmbd));
                f.sharedGateRow.resize(static_cast<size_t>(nEmbd));
                v.rowToF32(0, f.sharedGateRow.data());
                f.sharedGate = f.sharedGateRow.data();
            } else {
                MOE_ASSIGN_OR_RETURN(f.sharedGate, src.vectorF32(g, nEmbd));
            }
        }
    }
    return Status::ok();
}

void ffnForward(const ModelSpec& s, const FfnLayer& f, const float* x, int nTok, float* out,
                const ForwardContext& ctx, int il) {
    ThreadPool* pool = ctx.pool;
    RoutingCounts* routing = ctx.routing;
    const ExpertPolicy* policy = ctx.policy && ctx.policy->active() ? ctx.policy : nullptr;
    const int64_t nEmbd = s.nEmbd;
    if (!f.moe) {
        runMlp(f.dense, x, nTok, out, pool);
        return;
    }
    const int nExp = s.nExpert;
    const int k = policy && policy->maxExperts > 0 ? std::min(policy->maxExperts, nExp) : s.nExpertUsed;
    std::vector<float> rlogits(size_t(nTok) * size_t(nExp)), rw(size_t(nTok) * size_t(k));
    std::vector<int32_t> rid(rw.size());
    linear(x, nTok, f.router, rlogits.data(), pool);
    if (policy && !policy->domainBias.empty()) {
        const float* bias = policy->domainBias.data() + size_t(il) * size_t(nExp);
        for (int t = 0; t < nTok; ++t)
            for (int e = 0; e < nExp; ++e) rlogits[size_t(t) * size_t(nExp) + size_t(e)] += bias[e];
    }
    ops::RouterParams rp;
    rp.sigmoid = s.scoringFunc == "sigmoid";
    rp.groupByTopTwoSum = s.topkMethod == "noaux_tc";
    rp.nGroup = s.topkMethod == "greedy" ? 1 : s.nGroup;
    rp.topkGroup = s.topkGroup;
    rp.k = k;
    rp.normalize = s.normTopkProb;
    rp.scale = s.routedScalingFactor;
    rp.bias = f.routerBias;
    // Sigmoid scores saturate at 1, so a logit bias alone cannot outweigh the selection bias
    // (e_score_correction_bias) or a group's score: under a sigmoid router the domain bias also
    // enters the selection score (moe/expert-policy.h).
    std::vector<float> selectionBias;
    if (policy && !policy->domainBias.empty() && rp.sigmoid) {
        const float* bias = policy->domainBias.data() + size_t(il) * size_t(nExp);
        selectionBias.assign(bias, bias + nExp);
        if (f.routerBias)
            for (int e = 0; e < nExp; ++e) selectionBias[size_t(e)] += f.routerBias[e];
        rp.bias = selectionBias.data();
    }
    // Group-limited selection needs k experts inside the kept groups; a larger override widens it.
    if (rp.nGroup > 1 && k > rp.topkGroup * (nExp / rp.nGroup)) rp.nGroup = 1;
    ops::route(rlogits.data(), nTok, nExp, rp, rid.data(), rw.data());
    if (policy && policy->threshold > 0) applyThreshold(rid, rw, nTok, k, policy->threshold, s.normTopkProb);
    if (routing && routing->perToken) {
        // Per-token routing rows (decoder.h RoutingCounts): this layer's [nTok, k] ids and weights.
        const size_t want = size_t(s.nLayer) * size_t(nTok) * size_t(k);
        if (routing->k != k || routing->tokenIds.size() != want) {
            routing->k = k;
            routing->tokenIds.assign(want, -1);
            routing->tokenWeights.assign(want, 0.0f);
        }
        std::copy(rid.begin(), rid.end(), routing->tokenIds.begin() + ptrdiff_t(size_t(il) * rid.size()));
        std::copy(rw.begin(), rw.end(), routing->tokenWeights.begin() + ptrdiff_t(size_t(il) * rw.size()));
    }

    std::fill(out, out + int64_t(nTok) * nEmbd, 0.0f);
    std::vector<int> rowsOf; // slot indices (t * k + j) routed to expert e
    std::vector<float> xs, gate, up, down;
    for (int e = 0; e < nExp; ++e) {
        rowsOf.clear();
        for (int slot = 0; slot < nTok * k; ++slot)
            if (rid[size_t(slot)] == e) rowsOf.push_back(slot); // dropped slots hold -1
        if (rowsOf.empty()) continue;
        const int m = int(rowsOf.size());
        if (routing) {
            routing->counts[size_t(il) * size_t(nExp) + size_t(e)] += m;
            for (int slot : rowsOf) routing->weightSums[size_t(il) * size_t(nExp) + size_t(e)] += rw[size_t(slot)];
        }
        xs.resize(size_t(m) * size_t(nEmbd));
        for (int r = 0; r < m; ++r)
            std::memcpy(xs.data() + int64_t(r) * nEmbd, x + int64_t(rowsOf[size_t(r)] / k) * nEmbd,
                        size_t(nEmbd) * sizeof(float));
        gate.resize(size_t(m) * size_t(s.nFf));
        up.resize(gate.size());
        down.resize(size_t(m) * size_t(nEmbd));
        linear(xs.data(), m, f.gateExp[size_t(e)], gate.data(), pool);
        linear(xs.data(), m, f.upExp[size_t(e)], up.data(), pool);
        ops::swiglu(gate.data(), up.data(), gate.data(), int64_t(gate.size()));
        linear(gate.data(), m, f.downExp[size_t(e)], down.data(), pool);
        for (int r = 0; r < m; ++r) {
            const int slot = rowsOf[size_t(r)];
            const float wgt = rw[size_t(slot)];
            float* dst = out + int64_t(slot / k) * nEmbd;
            const float* src = down.data() + int64_t(r) * nEmbd;
            for (int64_t i = 0; i < nEmbd; ++i) dst[i] += wgt * src[i];
        }
    }
    if (f.shared.present()) {
        std::vector<float> sh(size_t(nTok) * size_t(nEmbd));
        runMlp(f.shared, x, nTok, sh.data(), pool);
        for (int t = 0; t < nTok; ++t) {
            float g = 1.0f;
            if (f.sharedGate) {
                float z = 0;
                for (int64_t i = 0; i < nEmbd; ++i) z += x[int64_t(t) * nEmbd + i] * f.sharedGate[i];
                g = 1.0f / (1.0f + std::exp(-z));
            }
            for (int64_t i = 0; i < nEmbd; ++i) out[int64_t(t) * nEmbd + i] += g * sh[size_t(t) * size_t(nEmbd) + size_t(i)];
        }
    }
}

} // namespace moe
