// The decoder skeleton every family shares (reference/model-formats.md §1.6) and the interface a
// family's bound weights present to the runtime:
//   h = embed[ids]; per layer h += Attn(norm(h)); h += Ffn(norm(h)); logits = head(norm(h)).
// A family (gqa-moe.h: Mixtral, Qwen2/3-MoE, OLMoE and dense Llama/Qwen; deepseek.h: MLA) binds
// its weights from a WeightSource and implements forward(); input checks, the embedding lookup
// and the output head are here, once.
#pragma once

#include "models/kv-view.h"
#include "models/weight-source.h"
#include "moe/expert-policy.h"
#include "moe/model.h"
#include "ops/ops.h"

#include <memory>
#include <span>
#include <vector>

namespace moe {

class ThreadPool;

// Floats per token per layer in the KV cache: K rows kDim wide, V rows vDim wide (0: the family
// keeps no separate V; MLA caches the latent once).
struct KvGeometry {
    int kDim = 0;
    int vDim = 0;
};

// Per-forward routing statistics (optional): per layer and expert, the tokens routed to it and
// the sum of their routing weights; index il * nExpert + e.
struct RoutingCounts {
    std::vector<int64_t> counts;
    std::vector<double> weightSums;
    // Per-token routing (Session's per-token stats, the CLI's `route --per-token`), filled only
    // when perToken is set: ffnForward sizes tokenIds/tokenWeights to [nLayer, nTok, k] (k: the
    // experts per token this forward chose, stored in k) when they are not that size already,
    // dense layers' rows staying -1/0, and writes every MoE layer's rows in full; index
    // (il * nTok + t) * k + j; a slot the threshold dropped holds -1 and weight 0.
    bool perToken = false;
    int k = 0;
    std::vector<int32_t> tokenIds;
    std::vector<float> tokenWeights;
};

// What a forward runs with besides its tokens: threads, routing statistics to fill (null: none),
// the expert policy (null: the model's routing).
struct ForwardContext {
    ThreadPool* pool = nullptr;
    RoutingCounts* routing = nullptr;
    const ExpertPolicy* policy = nullptr;
};

// One forward's tokens: token t belongs to sequence seq[t] at position pos[t] (a sequence's
// tokens in a batch at consecutive ascending positions after its cached ones; its cache pages
// reserved by the caller). logitRows: the batch rows whose logits are wanted, in order (empty:
// every row).
struct ForwardBatch {
    std::span<const int32_t> tokens;
    std::span<const int32_t> seq;
    std::span<const int32_t> pos;
    std::span<const int32_t> logitRows;
};

class FamilyForward {
public:
    virtual ~FamilyForward() = default;
    virtual KvGeometry kvGeometry() const = 0;
    // Runs a batch through the model, writing each token's cache row. logits gets
    // [logitRows.size() (or nTok), nVocab]. routing, when given, is reset and filled. One caller
    // at a time per cache.
    virtual Status forwardBatch(KvView& cache, const ForwardBatch& batch, std::vector<float>& logits,
                                const ForwardContext& ctx) const = 0;
    // Sequence 0 alone: tokens at positions pos0.. (reserving their pages); logits [nTok, nVocab]
    // or, lastOnly, [1, nVocab].
    Status forward(KvView& cache, std::span<const int32_t> tokens, int pos0, bool lastOnly,
                   std::vector<float>& logits, const ForwardContext& ctx) const;
};

// Checks a policy against a spec (maxExperts <= nExpert, threshold in [0, 1], domainBias size).
Status checkExpertPolicy(const ModelSpec& spec, const ExpertPolicy& policy);

// Binds the family spec.family names ("gqa-moe", "dense", "deepseek"). Errors name the file and
// the tensor, or the unsupported feature.
Result<std::unique_ptr<FamilyForward>> bindFamily(const WeightSource& src, const ModelSpec& spec);

// Shared by the families.
struct DecoderEnds {
    ops::WeightView tokenEmbd; // [nVocab, nEmbd]
    const float* outputNorm = nullptr;
    ops::WeightView output; // [nVocab, nEmbd] (the embedding when tied)
};
Status bindDecoderEnds(const WeightSource& src, const ModelSpec& spec, DecoderEnds& ends);
// Checks ids, sequences and positions against the vocabulary and the cache (every position's
// page reserved); fills h [nTok, nEmbd] with the embeddings.
Status embedTokens(const ModelSpec& spec, const DecoderEnds& ends, const KvView& cache,
                   const ForwardBatch& batch, std::vector<float>& h);
// Final norm and head over the batch's logitRows (all rows when empty); n is scratch.
void outputLogits(const ModelSpec& spec, const DecoderEnds& ends, const std::vector<float>& h,
                  const ForwardBatch& batch, std::vector<float>& n, std::vector<float>& logits, ThreadPool* pool);
// Per token: its sequence's page table (for ops::attention's KvPages).
std::vector<const int32_t*> pageTables(const KvView& cache, const ForwardBatch& batch);
// The spec's RoPE frequencies over nRot dims (Unsupported for rope types the engine lacks).
Result<ops::RopeFreqs> ropeFreqsFor(const ModelSpec& spec, int nRot);

} // namespace moe
