// Sampling parameters. The same (seed, input, parameters) always yields the same tokens: the
// sampler's random numbers come from a portable generator, never from the standard distributions.
#pragma once

#include <cstdint>

namespace moe {

struct SamplingParams {
    float temperature = 0.7f; // <= 0: greedy (argmax)
    int topK = 40;            // <= 0: off
    float topP = 0.95f;       // >= 1: off
    int maxTokens = 256;
    uint64_t seed = 0;
};

} // namespace moe
