// Sampling parameters. The same (seed, input, parameters) always yields the same tokens: the
// sampler's random numbers come from a portable generator, never from the standard distributions.
//
// Order of application (documented so results can be compared with other tools):
//   logit bias -> repetition penalty (HF: divide positive logits, multiply negative ones) ->
//   presence/frequency penalties (OpenAI: subtract presence + frequency * count) ->
//   greedy if temperature <= 0, else: temperature -> top-k -> softmax -> top-p -> min-p -> draw.
// Penalties look at the last penaltyLastN tokens of the context (prompt and reply; 0 = all).
#pragma once

#include <cstdint>
#include <map>

namespace moe {

struct SamplingParams {
    float temperature = 0.7f; // <= 0: greedy (argmax)
    int topK = 40;            // <= 0: off
    float topP = 0.95f;       // >= 1: off
    float minP = 0.0f;        // <= 0: off; keeps tokens with p >= minP * p_max
    float repetitionPenalty = 1.0f; // 1: off
    float presencePenalty = 0.0f;
    float frequencyPenalty = 0.0f;
    int penaltyLastN = 64;
    std::map<int32_t, float> logitBias; // token id -> added to its logit
    int topLogprobs = 0;                // report this many alternatives per token (0: off)
    int maxTokens = 256;
    uint64_t seed = 0;
};

} // namespace moe
