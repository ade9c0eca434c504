// GQA-MoE family (Mixtral-style): RMSNorm, GQA attention with RoPE over the KV cache, a softmax
// top-k router and SwiGLU experts. v0 reads GGUF files of architecture "llama" with expert_count
// (llama.cpp's naming for Mixtral; rope pairs are interleaved there, §1.3 and §9.8).
// The forward is written as a short sequence of op calls per layer.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/model.h"
#include "ops/ops.h"

#include <span>
#include <vector>

namespace moe {

class KvCache;
class ThreadPool;

struct GqaMoeLayer {
    const float* attnNorm = nullptr; // [nEmbd]
    ops::WeightView wq, wk, wv, wo;  // [nHead*hd, nEmbd], [nHeadKv*hd, nEmbd] x2, [nEmbd, nHead*hd]
    const float* ffnNorm = nullptr;  // [nEmbd]
    ops::WeightView router;          // [nExpert, nEmbd] (F32)
    ops::WeightView gateExps, upExps; // [nExpert * nFf, nEmbd]
    ops::WeightView downExps;         // [nExpert * nEmbd, nFf]
};

struct GqaMoeWeights {
    ops::WeightView tokenEmbd; // [nVocab, nEmbd]
    std::vector<GqaMoeLayer> layers;
    const float* outputNorm = nullptr;
    ops::WeightView output; // [nVocab, nEmbd]
};

// Reads the hyper-parameters of a llama-arch MoE GGUF into spec (errors name the key).
Status readGqaMoeSpec(const gguf::GgufFile& file, ModelSpec& spec);
// Binds every tensor, checking names, shapes and types against spec (errors name the tensor).
Status bindGqaMoeWeights(const gguf::GgufFile& file, const ModelSpec& spec, GqaMoeWeights& w);

// Per-forward routing counts (optional): counts[il * nExpert + e] tokens routed to e in layer il.
struct RoutingCounts {
    std::vector<int64_t> counts;
};

// Runs tokens at positions pos0.. through the model, writing their K/V into cache. logits gets
// [nTok, nVocab] (lastOnly: [1, nVocab]). Single-threaded callers only per cache.
Status gqaMoeForward(const ModelSpec& spec, const GqaMoeWeights& w, KvCache& cache,
                     std::span<const int32_t> tokens, int pos0, bool lastOnly,
                     std::vector<float>& logits, ThreadPool* pool, RoutingCounts* routing);

} // namespace moe
