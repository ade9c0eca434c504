// Session: one model running on one device with its own KV cache and sampler state.
// Generation streams tokens through a callback that returns false to cancel. A Session is used
// from one thread at a time; several Sessions may share one Model.
#pragma once

#include "moe/expert-policy.h"
#include "moe/model.h"
#include "moe/routing-stats.h"
#include "moe/sampling.h"
#include "moe/status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace moe {

struct SessionOptions {
    // "cpu", "cuda", "cuda:N", "vulkan", "vulkan:N" or "auto" (a CUDA GPU, else a Vulkan GPU, else
    // the CPU); a device that is absent or whose backend this build lacks is an error at create().
    std::string device = "cpu";
    // Sliding attention window: each position attends to the last N positions only (0: the whole
    // context; -1: the model's own, config.json sliding_window / GGUF attention.sliding_window).
    // Fixed for the session's life, since every cached row depends on it.
    int slidingWindow = -1;
    int nCtx = 0;               // 0: min(model context, 4096)
    int nThreads = 0;           // 0: hardware concurrency
    // generate() keeps the KV rows of the longest common prefix of the previous context and
    // the new prompt, and computes only the rest (a chat turn costs only its new tokens).
    bool reusePrefix = true;
    // How the session overrides the model's routing (moe/expert-policy.h; default: the model's
    // own routing). Checked against the model by create(). moe/expert-profiles.h reads one from
    // a model_config.json beside the model; create() does not look for that file itself.
    ExpertPolicy expertPolicy;
    // Accumulate RoutingStats over every forward (see routingStats()); collectTokenRouting also
    // keeps each token's chosen experts and weights (RoutingStats::perToken; grows with tokens).
    bool collectRouting = false;
    bool collectTokenRouting = false;
};

struct TokenLogprob {
    int32_t id = 0;
    float logprob = 0;
};

struct TokenEvent {
    int32_t id = 0;
    std::string text; // whole UTF-8 characters completed by this token (may be empty)
    int index = 0;    // 0-based index among generated tokens
    float logprob = 0; // log p(token) under the adjusted logits (bias and penalties applied)
    std::vector<TokenLogprob> topLogprobs; // SamplingParams::topLogprobs best alternatives
    // id is -1 for the final event that flushes bytes still pending at the end of the reply.
};

// Returns false to stop generation (the reply so far is kept).
using TokenCallback = std::function<bool(const TokenEvent&)>;

enum class StopReason { Eos, MaxTokens, Cancelled, ContextFull };
const char* stopReasonName(StopReason reason);

struct GenerationStats {
    int promptTokens = 0;
    int cachedTokens = 0;        // prompt tokens whose KV rows were reused, not recomputed
    int generatedTokens = 0;
    double ttftMs = 0;           // request start to first generated token
    double prefillTokPerSec = 0; // prompt tokens / prefill time
    double decodeTokPerSec = 0;  // tokens after the first / their time
    double totalMs = 0;
    StopReason stopReason = StopReason::MaxTokens;
    std::string text; // the whole reply
    std::vector<int32_t> tokens;
};

class SessionImpl;

class Session {
public:
    static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                   const SessionOptions& options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Model& model() const;
    int contextSize() const;
    // The device the session runs on, resolved: "cpu", "cuda:N" or "vulkan:N".
    const std::string& device() const;
    int position() const; // tokens in the KV cache

    // Clears the KV cache (the next generate() computes its whole prompt).
    void reset();

    // Writes the session's state — its cached tokens and their KV rows (the MLA latent for
    // DeepSeek) — to path (atomically: a temporary file renamed into place), with what it was
    // computed for: the model (architecture, shape, parameter count, weight bytes) and the expert
    // policy. restoreState() loads such a file into a session of the same model and policy, on
    // any device, so a long prompt is computed once and resumed later; a mismatch, a truncated or
    // corrupt file is refused naming the file and what differs, leaving the session unchanged.
    Status saveState(const std::string& path) const;
    Status restoreState(const std::string& path);

    // Appends tokens to the cache and returns logits [n, nVocab] (row-major) for every appended
    // position (lastOnly: just the last row, [1, nVocab]).
    Result<std::vector<float>> evaluate(std::span<const int32_t> tokens, bool lastOnly = false);

    // Prefills the prompt (reusing the cached common prefix when SessionOptions::reusePrefix),
    // then samples until EOS, maxTokens, the context end or a false from onToken. The tokens are
    // identical with and without prefix reuse.
    Result<GenerationStats> generate(std::span<const int32_t> prompt, const SamplingParams& params,
                                     const TokenCallback& onToken);
    // Expert policy. A policy different from the current one invalidates the cached prefix: the
    // KV rows were computed under the old routing, so the cache is cleared (position() becomes 0)
    // and the next generate() recomputes its whole prompt. Errors (checkExpertPolicy: max_experts
    // beyond the model's experts, threshold outside [0, 1], a bias vector not [nLayer * nExpert])
    // leave the session unchanged.
    Status setExpertPolicy(const ExpertPolicy& policy);
    const ExpertPolicy& expertPolicy() const;

    // Routing statistics accumulated since creation or resetRoutingStats() over every forward
    // (evaluate and generate, prefill and decode) while collection is on. nLayer/nExpert/moeLayer
    // are always filled; the counts stay 0 while collection is off.
    void setCollectRouting(bool on, bool perToken = false);
    RoutingStats routingStats() const;
    void resetRoutingStats();

    // Encodes text (with BOS) and generates.
    Result<GenerationStats> generateText(const std::string& prompt, const SamplingParams& params,
                                         const TokenCallback& onToken);

private:
    explicit Session(std::unique_ptr<SessionImpl> impl);
    std::unique_ptr<SessionImpl> m_impl;
};

} // namespace moe
