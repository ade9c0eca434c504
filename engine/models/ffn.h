// Feed-forward blocks shared by the families (reference/model-formats.md §1.2, §2.6-§2.8, §3-§7):
// a dense SwiGLU MLP, or a MoE block — router (softmax/sigmoid, groups, bias, normalize, scale),
// routed SwiGLU experts run grouped (each expert once over the tokens routed to it: the shape of
// the GPU backends' grouped expert matmul), and an optional shared expert (DeepSeek: added;
// Qwen2-MoE: times sigmoid(gate · x)).
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
    std::vector<ops::WeightView> gateExp, upExp, downExp; // per expert, views into the file
    DenseMlp shared;                    // shared expert (absent: gate.data == nullptr)
    const float* sharedGate = nullptr;  // [nEmbd] Qwen2-MoE shared_expert_gate
    std::vector<float> sharedGateRow;   // its float32 copy when stored as a [1, nEmbd] matrix
};

// Layer il is a MoE layer (§2.6 DeepSeek first_k_dense_replace; §4 Qwen decoder_sparse_step and
// mlp_only_layers; Mixtral/OLMoE: every layer; dense family: none).
bool isMoeLayer(const ModelSpec& spec, int il);

// Binds layer il's FFN tensors by canonical name: dense ffn_{gate,up,down}; MoE ffn_gate_inp,
// exp_probs_b.bias, experts stacked (ffn_gate_exps) or per expert (ffn_gate.E), *_shexp.
Status bindFfn(const WeightSource& src, const ModelSpec& spec, int il, FfnLayer& f);

// out[nTok, nEmbd] = FFN(x), x the post-attention-normed activations, routed under ctx.policy
// (moe/expert-policy.h); ctx.routing (optional) accumulates layer il's expert counts and weights.
void ffnForward(const ModelSpec& spec, const FfnLayer& f, const float* x, int nTok, float* out,
                const ForwardContext& ctx, int il);

} // namespace moe
