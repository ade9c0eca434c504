// DeepSeek family (V2, V2-Lite, V3, R1): multi-head latent attention and DeepSeekMoE
// (reference/model-formats.md §2). The KV cache keeps the compressed latent per token and layer
// — kv_lora_rank normalized values plus the roped k_pe (qk_rope_head_dim) — and attention runs in
// the absorbed form (§2.9): each head's q_nope is mapped into the latent space through its k
// slice of kv_b_proj, attention is MQA over the latent rows, and each head's latent output is
// mapped back through its v slice. Weights come as HF/legacy-GGUF kv_b_proj ([nh*(dn+dv), R])
// or as the current GGUF split attn_k_b ([nh, R, dn]) / attn_v_b ([nh, dv, R]).
#pragma once

#include "models/decoder.h"

namespace moe {

Result<std::unique_ptr<FamilyForward>> bindDeepseekFamily(const WeightSource& src, const ModelSpec& spec,
                                                          ComputeBackend& device);

// Softmax scale of MLA (§2.5): (dn + dr)^-0.5, times mscale^2 when YaRN sets mscale_all_dim.
float deepseekSoftmaxScale(const ModelSpec& spec);

} // namespace moe
