// Sampler: logits -> next token. Order: temperature, top-k, softmax, top-p (nucleus), then one
// draw from the portable Rng. temperature <= 0 is greedy (argmax, lowest id on ties). The same
// seed and the same logits always give the same token sequence.
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

    int32_t sample(std::span<const float> logits);

    // The distribution sample() draws from: candidates sorted by probability (descending, ties
    // by id), probabilities summing to 1. For greedy, the argmax with p = 1.
    std::vector<Candidate> distribution(std::span<const float> logits) const;

private:
    SamplingParams m_params;
    Rng m_rng;
};

} // namespace moe
