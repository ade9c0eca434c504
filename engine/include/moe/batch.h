// BatchSession: several sequences of one model decoded together — each forward carries tokens of
// many sequences at their own positions (prefill of one beside decode steps of others), over one
// paged KV cache whose pages the sequences take as they grow and give back when removed. The core
// of continuous batching and of batched benchmarks; per sequence the logits equal a Session's.
#pragma once

#include "moe/expert-policy.h"
#include "moe/model.h"
#include "moe/status.h"

#include <memory>
#include <vector>

namespace moe {

struct BatchOptions {
    int maxSequences = 8;
    int totalTokens = 0; // KV cache rows shared by all sequences (0: maxSequences x maxSeqLen)
    int maxSeqLen = 0;   // per sequence (0: min(model context, 4096))
    int nThreads = 0;    // 0: hardware concurrency
    int pageSize = 0;    // KV cache rows per page (0: 64)
    ExpertPolicy expertPolicy;
};

// Tokens appended to one sequence in a step.
struct SequenceStep {
    int sequence = 0;
    std::vector<int32_t> tokens;
};

class BatchSessionImpl;

class BatchSession {
public:
    static Result<std::unique_ptr<BatchSession>> create(std::shared_ptr<const Model> model,
                                                        const BatchOptions& options = {});
    ~BatchSession();
    BatchSession(const BatchSession&) = delete;
    BatchSession& operator=(const BatchSession&) = delete;

    // A new empty sequence's id; OutOfMemory when maxSequences are in use.
    Result<int> addSequence();
    // Frees the sequence's cache pages; its id may be handed out again.
    Status removeSequence(int sequence);
    int position(int sequence) const; // tokens cached for the sequence (-1: no such sequence)
    int activeSequences() const;
    int freeTokens() const; // cache rows not held by any sequence

    // One forward over every step's tokens (each sequence at most once per call). Returns, per
    // step in order, the logits of its last token [nVocab]. Nothing is appended on error.
    Result<std::vector<std::vector<float>>> step(const std::vector<SequenceStep>& steps);

private:
    explicit BatchSession(std::unique_ptr<BatchSessionImpl> impl);
    std::unique_ptr<BatchSessionImpl> m_impl;
};

} // namespace moe
