// The decoder skeleton every family shares (reference/model-formats.md §1.6) and the interface a
// family's bound weights present to the runtime:
//   h = embed[ids]; per layer h += Attn(norm(h)); h += Ffn(norm(h)); logits = head(norm(h)).
// A family (gqa-moe.h: Mixtral, Qwen2/3-MoE, OLMoE and dense Llama/Qwen; deepseek.h: MLA) binds
// its weights from a WeightSource into a backend's memory and writes its forward as a sequence of
// the backend's ops (backends/backend.h), so one family file serves the CPU and every GPU
// backend. Input checks, the embedding, the output head and the backend scratch are here, once.
#pragma once

#include "backends/backend.h"
#include "models/kv-view.h"
#include "models/weight-source.h"
#include "moe/expert-policy.h"
#include "moe/model.h"
#include "ops/ops.h"

#include <map>
#include <memory>
#include <span>
#include <vector>

namespace moe {

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

// Backend scratch of one session: buffers by name, grown on demand and kept between forwards.
class Workspace {
public:
    explicit Workspace(ComputeBackend& backend) : m_backend(backend) {}
    ComputeBackend& backend() const { return m_backend; }
    // At least bytes of backend memory under name (contents undefined after growth).
    Result<void*> get(const std::string& name, size_t bytes);
    Result<float*> floats(const std::string& name, size_t n);
    Result<int32_t*> ints(const std::string& name, size_t n);
    // get() + upload of host values.
    template <class T> Result<T*> upload(const std::string& name, const std::vector<T>& host) {
        MOE_ASSIGN_OR_RETURN(void* p, get(name, host.size() * sizeof(T)));
        MOE_TRY(m_backend.upload(p, host.data(), host.size() * sizeof(T)));
        return static_cast<T*>(p);
    }

private:
    ComputeBackend& m_backend;
    std::map<std::string, BackendMemory> m_buffers;
};

// What a forward runs with besides its tokens: the session's backend scratch (its backend runs the
// ops), routing statistics to fill (null: none), the expert policy (null: the model's routing).
struct ForwardContext {
    Workspace* ws = nullptr;
    RoutingCounts* routing = nullptr;
    const ExpertPolicy* policy = nullptr;
    int slidingWindow = -1; // attend to the last N positions (0: all; -1: the model's own)
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

// Binds the family spec.family names ("gqa-moe", "dense", "deepseek") with its weights resident
// on `device` (a backend of the device the forwards will run on; the CPU uses the mapped file in
// place). Errors name the file and the tensor, or the unsupported feature.
Result<std::unique_ptr<FamilyForward>> bindFamily(const WeightSource& src, const ModelSpec& spec,
                                                  ComputeBackend& device);

// Shared by the families.
struct DecoderEnds {
    ops::WeightView tokenEmbd; // [nVocab, nEmbd]
    const float* outputNorm = nullptr;
    ops::WeightView output; // [nVocab, nEmbd] (the embedding when tied)
};
Status bindDecoderEnds(const WeightSource& src, const ModelSpec& spec, ComputeBackend& device, DecoderEnds& ends);
// Resident copies of a source's tensors (messages name the tensor).
Result<ops::WeightView> residentMatrix(const WeightSource& src, ComputeBackend& device, const std::string& name,
                                       int64_t rows, int64_t cols);
Result<const float*> residentVector(const WeightSource& src, ComputeBackend& device, const std::string& name,
                                    int64_t n);
Result<const float*> residentOptionalVector(const WeightSource& src, ComputeBackend& device,
                                            const std::string& name, int64_t n);

// A forward's inputs on the backend: ids, positions, cache rows, paging and logit rows.
struct BatchInputs {
    int nTok = 0;
    const int32_t* ids = nullptr;
    const int32_t* pos = nullptr;
    const int32_t* cacheRows = nullptr; // physical cache row of each token
    PagedRows paged;
    const int32_t* logitRows = nullptr;
    int nLogitRows = 0;
};
// Checks ids, sequences and positions against the vocabulary and the cache (every position's
// page reserved), uploads the inputs and embeds the tokens into h [nTok, nEmbd].
Result<BatchInputs> prepareBatch(const ModelSpec& spec, const DecoderEnds& ends, const KvView& cache,
                                 const ForwardBatch& batch, Workspace& ws, float* h);
// Final norm and head over the batch's logit rows, downloaded into logits [rows, nVocab].
Status outputLogits(const ModelSpec& spec, const DecoderEnds& ends, const float* h, const BatchInputs& in,
                    Workspace& ws, std::vector<float>& logits);
// The spec's RoPE frequencies over nRot dims (Unsupported for rope types the engine lacks).
Result<ops::RopeFreqs> ropeFreqsFor(const ModelSpec& spec, int nRot);
// ropeFreqsFor, resident on the device; storage kept alive by `keep`.
Result<RopeTable> residentRope(const ModelSpec& spec, int nRot, ComputeBackend& device, BackendMemory& keep);

} // namespace moe
