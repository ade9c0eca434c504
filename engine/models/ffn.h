// Feed-forward blocks shared by the families (reference/model-formats.md §1.2, §2.6-§2.8, §3-§7):
// a dense SwiGLU MLP, or a MoE block — router (softmax/sigmoid, groups, bias, normalize, scale)
// under the session's expert policy, routed SwiGLU experts run by the backend's grouped expert op,
// and an optional shared expert (DeepSeek: added; Qwen2-MoE: times sigmoid(gate · x)).
#pragma once

#include "models/decoder.h"

namespace moe {

struct DenseMlp {
    ops::WeightView gate, up; // [nFf, nEmbd]
    ops::WeightView down;     // [nEmbd, nFf]
    bool present() const { return gate.data != nullptr; }
};

struct FfnLayer {
    bool moe = false;
    DenseMlp dense; // dense layers
    // MoE layers:
    ops::WeightView router;             // [nExpert, nEmbd]
    const float* routerBias = nullptr;  // [nExpert] e_score_correction_bias (selection only)
    std::vector<float> routerBiasHost;  // its host copy (the policy adds to it for sigmoid routers)
    ExpertSet experts;                  // routed experts, views resident on the device
    DenseMlp shared;                    // shared expert (absent: gate.data == nullptr)
    const float* sharedGate = nullptr;  // [nEmbd] Qwen2-MoE shared_expert_gate
    std::vector<float> sharedGateRow;   // its float32 host copy when stored as a [1, nEmbd] matrix
};

// Layer il is a MoE layer (§2.6 DeepSeek first_k_dense_replace; §4 Qwen decoder_sparse_step and
// mlp_only_layers; Mixtral/OLMoE: every layer; dense family: none).
bool isMoeLayer(const ModelSpec& spec, int il);

// Binds layer il's FFN tensors by canonical name, resident on device: dense ffn_{gate,up,down};
// MoE ffn_gate_inp, exp_probs_b.bias, experts stacked (ffn_gate_exps) or per expert (ffn_gate.E),
// *_shexp.
Status bindFfn(const WeightSource& src, const ModelSpec& spec, ComputeBackend& device, int il, FfnLayer& f);

// The router of the model's config choosing k experts: scoring, group-limited or noaux_tc
// selection, normalize, scale, selection bias (null: none). Group-limited selection needs k
// experts inside the kept groups, so a k larger than that widens it to one group.
ops::RouterParams routerParamsFor(const ModelSpec& spec, int k, const float* selectionBias);

// out[nTok, nEmbd] = FFN(x) on ctx's backend, x the post-attention-normed activations, routed under
// ctx.policy (moe/expert-policy.h); ctx.routing, when given, accumulates layer il's statistics
// (into stats, backend memory [nLayer * nExpert] counts and sums, downloaded by the caller).
Status ffnForward(const ModelSpec& spec, const FfnLayer& f, const float* x, int nTok, float* out,
                  const ForwardContext& ctx, int il, int64_t* statCounts, double* statSums);

} // namespace moe
