// Sampler: logits -> next token, in the order documented in moe/sampling.h, with one draw from
// the portable Rng. temperature <= 0 is greedy (argmax, lowest id on ties). The same seed, the
// same logits and the same history always give the same token sequence.
#pragma once

#include "core/rng.h"
#include "moe/sampling.h"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace moe {

struct Candidate {
    int32_t id;
    float p;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params) : m_params(params), m_rng(params.seed) {}

    // history: the tokens of the context so far (prompt, then the reply), for the penalties.
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history = {});

    // The distribution sample() draws from: candidates sorted by probability (descending, ties
    // by id), probabilities summing to 1. For greedy, the argmax with p = 1.
    std::vector<Candidate> distribution(std::span<const float> logits,
                                        std::span<const int32_t> history = {}) const;

    // Logits after bias and penalties (what the truncations start from).
    std::vector<float> adjustedLogits(std::span<const float> logits,
                                      std::span<const int32_t> history) const;

    // Log-probabilities under softmax(adjusted logits): the chosen token's and the n best.
    static float logSoftmaxAt(std::span<const float> logits, int32_t id);
    static std::vector<Candidate> topLogprobs(std::span<const float> logits, int n);

private:
    SamplingParams m_params;
    Rng m_rng;
};

} // namespace moe
