// GQA family: Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE (spec.family "gqa-moe") and the dense
// Llama / Qwen2 / Qwen3 baselines (family "dense": the same layer with a dense MLP everywhere).
// Attention: q/k/v projections (with biases for Qwen2), QK-norm per head (Qwen3) or over the
// full width (OLMoE), RoPE on the first nRot dims (interleaved rows in GGUF llama files, half
// rotation elsewhere, spec.ropeInterleaved), GQA over the paged KV cache, o_proj. FFN: ffn.h.
#pragma once

#include "models/decoder.h"

namespace moe {

Result<std::unique_ptr<FamilyForward>> bindGqaFamily(const WeightSource& src, const ModelSpec& spec,
                                                     ComputeBackend& device);

// Routing statistics scratch shared by the families: zeroed backend counters for a forward when
// ctx.routing is set (null pointers otherwise), and their download into ctx.routing.
struct RoutingScratch {
    int64_t* counts = nullptr;
    double* sums = nullptr;
};
Result<RoutingScratch> beginRouting(const ModelSpec& spec, const ForwardContext& ctx);
Status endRouting(const ModelSpec& spec, const ForwardContext& ctx, const RoutingScratch& scratch);

} // namespace moe
