// Dense and MoE feed-forward blocks as backend op sequences; see ffn.h.
#include "models/ffn.h"

#include <algorithm>
#include <cmath>

namespace moe {

bool isMoeLayer(const ModelSpec& s, int il) {
    if (s.nExpert <= 0) return false;
    if (s.family == "deepseek") return il >= s.firstKDenseReplace;
    if (std::find(s.mlpOnlyLayers.begin(), s.mlpOnlyLayers.end(), il) != s.mlpOnlyLayers.end()) return false;
    const int step = std::max(s.decoderSparseStep, 1);
    return (il + 1) % step == 0;
}

namespace {

Status bindMlp(const WeightSource& src, ComputeBackend& dev, const std::string& p, const std::string& suffix,
               int64_t nEmbd, int64_t nFf, DenseMlp& m) {
    MOE_ASSIGN_OR_RETURN(m.gate, residentMatrix(src, dev, p + "ffn_gate" + suffix + ".weight", nFf, nEmbd));
    MOE_ASSIGN_OR_RETURN(m.up, residentMatrix(src, dev, p + "ffn_up" + suffix + ".weight", nFf, nEmbd));
    MOE_ASSIGN_OR_RETURN(m.down, residentMatrix(src, dev, p + "ffn_down" + suffix + ".weight", nEmbd, nFf));
    return Status::ok();
}

// Experts of one kind ("ffn_gate"): a stacked blk.L.<kind>_exps.weight [nExp, rows, cols] when the
// source has one (GGUF), else blk.L.<kind>.E.weight [rows, cols] per expert (HF, legacy GGUF).
Status bindExperts(const WeightSource& src, ComputeBackend& dev, const std::string& blk, const std::string& kind,
                   int64_t nExp, int64_t rows, int64_t cols, std::vector<ops::WeightView>& out) {
    out.clear();
    const std::string stackedName = blk + kind + "_exps.weight";
    if (src.find(stackedName)) {
        MOE_ASSIGN_OR_RETURN(ops::WeightView all, src.stacked(stackedName, nExp, rows, cols));
        auto resident = dev.residentWeight(all);
        if (!resident.isOk())
            return Status(resident.status().code(), src.location() + ": tensor '" + stackedName + "': " +
                                                        resident.status().message());
        for (int64_t e = 0; e < nExp; ++e) out.push_back(resident->rowsView(e * rows, rows));
        return Status::ok();
    }
    for (int64_t e = 0; e < nExp; ++e) {
        MOE_ASSIGN_OR_RETURN(ops::WeightView v,
                             residentMatrix(src, dev, blk + kind + "." + std::to_string(e) + ".weight", rows, cols));
        out.push_back(v);
    }
    return Status::ok();
}

Status runMlp(const DenseMlp& m, const float* x, int nTok, float* out, Workspace& ws) {
    ComputeBackend& be = ws.backend();
    const size_t n = size_t(nTok) * size_t(m.gate.rows);
    MOE_ASSIGN_OR_RETURN(float* gate, ws.floats("mlp.gate", n));
    MOE_ASSIGN_OR_RETURN(float* up, ws.floats("mlp.up", n));
    be.matmul(x, nTok, m.gate, gate);
    be.matmul(x, nTok, m.up, up);
    be.swiglu(gate, up, gate, int64_t(n));
    be.matmul(gate, nTok, m.down, out);
    return Status::ok();
}

} // namespace

ops::RouterParams routerParamsFor(const ModelSpec& s, int k, const float* selectionBias) {
    ops::RouterParams rp;
    rp.sigmoid = s.scoringFunc == "sigmoid";
    rp.groupByTopTwoSum = s.topkMethod == "noaux_tc";
    rp.nGroup = s.topkMethod == "greedy" ? 1 : s.nGroup;
    rp.topkGroup = s.topkGroup;
    rp.k = k;
    rp.normalize = s.normTopkProb;
    rp.scale = s.routedScalingFactor;
    rp.bias = selectionBias;
    if (rp.nGroup > 1 && k > rp.topkGroup * (s.nExpert / rp.nGroup)) rp.nGroup = 1;
    return rp;
}

Status bindFfn(const WeightSource& src, const ModelSpec& s, ComputeBackend& dev, int il, FfnLayer& f) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const int64_t nEmbd = s.nEmbd;
    f.moe = isMoeLayer(s, il);
    if (!f.moe) {
        const int64_t nFf = s.nFfDense > 0 ? s.nFfDense : s.nFf;
        return bindMlp(src, dev, p, "", nEmbd, nFf, f.dense);
    }
    const int64_t nExp = s.nExpert;
    MOE_ASSIGN_OR_RETURN(f.router, residentMatrix(src, dev, p + "ffn_gate_inp.weight", nExp, nEmbd));
    if (src.find(p + "exp_probs_b.bias")) {
        MOE_ASSIGN_OR_RETURN(const float* host, src.vectorF32(p + "exp_probs_b.bias", nExp));
        f.routerBiasHost.assign(host, host + nExp);
        MOE_ASSIGN_OR_RETURN(f.routerBias, residentVector(src, dev, p + "exp_probs_b.bias", nExp));
    } else if (s.topkMethod == "noaux_tc") {
        return Status(StatusCode::CorruptFile, src.location() + ": tensor '" + p +
                                                   "exp_probs_b.bias' (e_score_correction_bias) is missing; "
                                                   "noaux_tc routing needs it");
    }
    MOE_TRY(bindExperts(src, dev, p, "ffn_gate", nExp, s.nFf, nEmbd, f.experts.gate));
    MOE_TRY(bindExperts(src, dev, p, "ffn_up", nExp, s.nFf, nEmbd, f.experts.up));
    MOE_TRY(bindExperts(src, dev, p, "ffn_down", nExp, nEmbd, s.nFf, f.experts.down));
    MOE_TRY(dev.prepareExperts(f.experts));
    if (s.nFfShared > 0) {
        MOE_TRY(bindMlp(src, dev, p, "_shexp", nEmbd, s.nFfShared, f.shared));
        if (s.sharedExpertGate) {
            const std::string g = p + "ffn_gate_inp_shexp.weight";
            const WeightEntry* e = src.find(g);
            // HF stores the gate as a [1, nEmbd] linear, GGUF as a [nEmbd] vector.
            if (e && e->shape.size() == 2) {
                MOE_ASSIGN_OR_RETURN(ops::WeightView v, src.matrix(g, 1, nEmbd));
                f.sharedGateRow.resize(static_cast<size_t>(nEmbd)); // outlives the binding (CPU uses it in place)
                v.rowToF32(0, f.sharedGateRow.data());
                MOE_ASSIGN_OR_RETURN(f.sharedGate, dev.residentVector(f.sharedGateRow.data(), nEmbd));
            } else {
                MOE_ASSIGN_OR_RETURN(f.sharedGate, residentVector(src, dev, g, nEmbd));
            }
        }
    }
    return Status::ok();
}

Status ffnForward(const ModelSpec& s, const FfnLayer& f, const float* x, int nTok, float* out,
                  const ForwardContext& ctx, int il, int64_t* statCounts, double* statSums) {
    Workspace& ws = *ctx.ws;
    ComputeBackend& be = ws.backend();
    const ExpertPolicy* policy = ctx.policy && ctx.policy->active() ? ctx.policy : nullptr;
    const int64_t nEmbd = s.nEmbd;
    if (!f.moe) return runMlp(f.dense, x, nTok, out, ws);

    const int nExp = s.nExpert;
    const int k = policy && policy->maxExperts > 0 ? std::min(policy->maxExperts, nExp) : s.nExpertUsed;
    MOE_ASSIGN_OR_RETURN(float* rlogits, ws.floats("moe.logits", size_t(nTok) * size_t(nExp)));
    MOE_ASSIGN_OR_RETURN(float* rw, ws.floats("moe.weights", size_t(nTok) * size_t(k)));
    MOE_ASSIGN_OR_RETURN(int32_t* rid, ws.ints("moe.ids", size_t(nTok) * size_t(k)));
    be.matmul(x, nTok, f.router, rlogits);
    ops::RouterParams rp = routerParamsFor(s, k, f.routerBias);
    if (policy && !policy->domainBias.empty()) {
        // The domain bias shifts the router logits; sigmoid scores saturate at 1, so under a
        // sigmoid router it also enters the selection score (moe/expert-policy.h).
        const float* bias = policy->domainBias.data() + size_t(il) * size_t(nExp);
        std::vector<float> layerBias(bias, bias + nExp);
        MOE_ASSIGN_OR_RETURN(const float* devBias, ws.upload("moe.domainBias", layerBias));
        be.addRows(rlogits, devBias, nTok, nExp);
        if (rp.sigmoid) {
            for (int e = 0; e < nExp && !f.routerBiasHost.empty(); ++e) layerBias[size_t(e)] += f.routerBiasHost[size_t(e)];
            MOE_ASSIGN_OR_RETURN(rp.bias, ws.upload("moe.selectionBias", layerBias));
        }
    }
    be.route(rlogits, nTok, nExp, rp, policy ? policy->threshold : 0.0f, s.normTopkProb, rid, rw);
    if (statCounts) be.accumulateRouting(rid, rw, nTok * k, nExp, statCounts + int64_t(il) * nExp, statSums + int64_t(il) * nExp);
    RoutingCounts* routing = ctx.routing;
    if (routing && routing->perToken) {
        // Per-token routing rows (decoder.h RoutingCounts): this layer's [nTok, k] ids and weights.
        const size_t want = size_t(s.nLayer) * size_t(nTok) * size_t(k);
        if (routing->k != k || routing->tokenIds.size() != want) {
            routing->k = k;
            routing->tokenIds.assign(want, -1);
            routing->tokenWeights.assign(want, 0.0f);
        }
        const size_t slots = size_t(nTok) * size_t(k);
        MOE_TRY(be.download(routing->tokenIds.data() + size_t(il) * slots, rid, slots * sizeof(int32_t)));
        MOE_TRY(be.download(routing->tokenWeights.data() + size_t(il) * slots, rw, slots * sizeof(float)));
    }
    be.moeExperts(x, nTok, rid, rw, k, f.experts, out);
    if (f.shared.present()) {
        MOE_ASSIGN_OR_RETURN(float* sh, ws.floats("moe.shared", size_t(nTok) * size_t(nEmbd)));
        MOE_TRY(runMlp(f.shared, x, nTok, sh, ws));
        if (f.sharedGate)
            be.sigmoidGateAdd(out, sh, x, f.sharedGate, nTok, nEmbd);
        else
            be.add(out, sh, int64_t(nTok) * nEmbd);
    }
    return Status::ok();
}

} // namespace moe
