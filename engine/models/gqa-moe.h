// GQA-MoE family (Mixtral-style): RMSNorm, GQA attention with RoPE over the KV cache, a softmax
// top-k router and SwiGLU experts. Weights come from a WeightSource: GGUF files of architecture
// "llama" with expert_count (rope pairs interleaved, experts stacked, §9.8) or Hugging Face
// Mixtral folders (half-rotation rope, one tensor per expert); spec.ropeInterleaved says which.
// The forward is written as a short sequence of op calls per layer.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "models/weight-source.h"
#include "moe/model.h"
#include "ops/ops.h"

#include <span>
#include <vector>

namespace moe {

class KvView;
class ThreadPool;

struct GqaMoeLayer {
    const float* attnNorm = nullptr; // [nEmbd]
    ops::WeightView wq, wk, wv, wo;  // [nHead*hd, nEmbd], [nHeadKv*hd, nEmbd] x2, [nEmbd, nHead*hd]
    const float* ffnNorm = nullptr;  // [nEmbd]
    ops::WeightView router;          // [nExpert, nEmbd] (F32)
    // Per expert (views into a stacked tensor or into per-expert tensors, never copies):
    std::vector<ops::WeightView> gateExp, upExp; // nExpert x [nFf, nEmbd]
    std::vector<ops::WeightView> downExp;        // nExpert x [nEmbd, nFf]
};

struct GqaMoeWeights {
    ops::WeightView tokenEmbd; // [nVocab, nEmbd]
    std::vector<GqaMoeLayer> layers;
    const float* outputNorm = nullptr;
    ops::WeightView output; // [nVocab, nEmbd]
};

// Reads the hyper-parameters of a llama-arch MoE GGUF into spec (errors name the key).
Status readGqaMoeSpec(const gguf::GgufFile& file, ModelSpec& spec);
// Binds every tensor by canonical name (weight-source.h), checking shapes and types against spec;
// experts either stacked (blk.L.ffn_gate_exps) or per expert (blk.L.ffn_gate.E). Errors name the
// file and the tensor.
Status bindGqaMoeWeights(const WeightSource& src, const ModelSpec& spec, GqaMoeWeights& w);

// Per-forward routing counts (optional): counts[il * nExpert + e] tokens routed to e in layer il.
struct RoutingCounts {
    std::vector<int64_t> counts;
};

// Runs tokens at positions pos0.. through the model, writing their K/V into cache. logits gets
// [nTok, nVocab] (lastOnly: [1, nVocab]). Single-threaded callers only per cache.
Status gqaMoeForward(const ModelSpec& spec, const GqaMoeWeights& w, KvView& cache,
                     std::span<const int32_t> tokens, int pos0, bool lastOnly,
                     std::vector<float>& logits, ThreadPool* pool, RoutingCounts* routing);

} // namespace moe
