// Quality evaluations of a model: perplexity over a text (sliding windows), KL divergence and
// top-1 agreement against a reference model, multiple-choice accuracy by log-likelihood
// (lm-evaluation-harness style), generation tasks scored by exact match / contains / regex, and
// routing analysis (expert shares, load-balance entropy, per-domain affinity). Every eval is
// deterministic: greedy decoding, no sampling, a fresh KV cache per window or item, so the same
// model, data and device give the same numbers. Definitions: docs/bench.md.
//
// Each eval runs its own Session(s) from EvalOptions::session on the calling thread and reports
// progress through an EvalProgress that returns false to cancel (Status Cancelled).
#pragma once

#include "moe/model.h"
#include "moe/session.h"
#include "moe/status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace moe {

// Called before each unit of work (a window, an item, a domain chunk): stage names the eval and
// its data ("perplexity wiki.txt"); returns false to cancel.
using EvalProgress = std::function<bool(const std::string& stage, int64_t done, int64_t total)>;

struct EvalOptions {
    // Device, threads, expert policy. nCtx 0: what the eval needs (its window or item length).
    SessionOptions session;
};

// ---- Sliding windows (Hugging Face's perplexity method) -----------------------------------------
// Windows of at most `context` tokens start every `stride` tokens; each window scores only the
// tokens no earlier window scored: positions [max(previous end, begin + 1), end), each predicted
// from the logits one position before it inside the window. The first token of the stream is never
// scored (nothing predicts it); the last window ends at the stream's end. stride <= context.
struct EvalWindow {
    int64_t begin = 0;     // first token of the window (absolute index in the stream)
    int64_t end = 0;       // one past its last token
    int64_t scoreFrom = 0; // first scored token; [scoreFrom, end) are scored
};
Result<std::vector<EvalWindow>> slidingWindows(int64_t nTokens, int context, int stride);

// ---- Perplexity ---------------------------------------------------------------------------------
struct PerplexityConfig {
    int context = 512;
    int stride = 0;     // 0: context (disjoint windows)
    bool addBos = true; // encode the text with the tokenizer's special tokens (BOS)
};

struct PerplexityResult {
    int64_t tokens = 0; // scored tokens
    double nllSum = 0;  // sum of -ln p(token | its window's earlier tokens), nats
    double nllMean = 0; // nllSum / tokens
    double ppl = 0;     // exp(nllMean)
    std::vector<EvalWindow> windows;
    std::vector<double> windowNll; // per window: the NLL sum of its scored tokens
    std::vector<float> tokenNll;   // per scored token, in stream order
};

// Over a token stream (ids as given; no BOS is added here).
Result<PerplexityResult> evalPerplexityTokens(std::shared_ptr<const Model> model,
                                              std::span<const int32_t> ids,
                                              const PerplexityConfig& config,
                                              const EvalOptions& options = {},
                                              const EvalProgress& progress = {});
// Over a UTF-8 text file, tokenized by the model's tokenizer. Errors name the file.
Result<PerplexityResult> evalPerplexity(std::shared_ptr<const Model> model,
                                        const std::string& textFile, const PerplexityConfig& config,
                                        const EvalOptions& options = {},
                                        const EvalProgress& progress = {});

// ---- KL divergence and top-1 agreement vs a reference model -------------------------------------
// Per scored token (the perplexity windows): KL(P_ref || P_model) = sum_v p_ref(v) ln(p_ref(v) /
// p_model(v)) in nats, and whether both argmaxes agree. Both models must have the same vocabulary
// size and tokenize the text identically.
struct KlResult {
    int64_t tokens = 0;
    double klMean = 0, klMedian = 0, klP95 = 0, klMax = 0; // percentiles: linear interpolation
    double top1Agreement = 0;                              // fraction of tokens, in [0, 1]
    double pplModel = 0, pplReference = 0;                 // from the same logits
    std::vector<float> tokenKl;                            // per scored token
};

Result<KlResult> evalKlTokens(std::shared_ptr<const Model> model,
                              std::shared_ptr<const Model> reference, std::span<const int32_t> ids,
                              const PerplexityConfig& config, const EvalOptions& options = {},
                              const EvalProgress& progress = {});
Result<KlResult> evalKl(std::shared_ptr<const Model> model, std::shared_ptr<const Model> reference,
                        const std::string& textFile, const PerplexityConfig& config,
                        const EvalOptions& options = {}, const EvalProgress& progress = {});

// ---- Multiple choice ----------------------------------------------------------------------------
// One JSONL line per item: {"question": str, "choices": [str, ...], "answer": index or "A".."Z"}.
// Each choice is scored as lm-evaluation-harness scores a loglikelihood request: context =
// question, continuation = delimiter + choice; tokens(context + continuation) with BOS, the
// continuation's tokens being those past tokens(context); score = sum of their log-probabilities.
// acc: argmax of the scores is the answer; acc_norm: argmax of score / (characters of the choice).
struct ChoiceItem {
    std::string question;
    std::vector<std::string> choices;
    int answer = 0;
    int line = 0; // 1-based line in the file
};
struct ChoiceConfig {
    std::string delimiter = " "; // between question and choice (lm-eval's target_delimiter)
    int limit = 0;               // first N items only (0: all)
};
struct ChoiceItemResult {
    std::vector<double> logLikelihoods;  // per choice
    std::vector<int> continuationTokens; // per choice
    int answer = 0;
    int predicted = 0, predictedNorm = 0;
    bool correct = false, correctNorm = false;
};
struct ChoiceResult {
    int64_t items = 0;
    double acc = 0, accNorm = 0;
    double accStderr = 0, accNormStderr = 0; // sample stddev / sqrt(n), as lm-eval reports
    std::string delimiter = " ";             // the ChoiceConfig's, for the results JSON
    std::vector<ChoiceItemResult> perItem;
};

// Parses a choice JSONL file; errors name the file, line and field.
Result<std::vector<ChoiceItem>> readChoiceItems(const std::string& jsonlFile);
Result<ChoiceResult> evalChoiceItems(std::shared_ptr<const Model> model,
                                     std::span<const ChoiceItem> items, const ChoiceConfig& config,
                                     const EvalOptions& options = {},
                                     const EvalProgress& progress = {});
Result<ChoiceResult> evalChoice(std::shared_ptr<const Model> model, const std::string& jsonlFile,
                                const ChoiceConfig& config, const EvalOptions& options = {},
                                const EvalProgress& progress = {});
// lm-evaluation-harness results JSON ("results", "configs", "versions", "n-shot",
// "higher_is_better", "n-samples", "config") for one task.
std::string choiceResultsJson(const ChoiceResult& result, const std::string& task,
                              const std::string& dataFile, const std::string& modelPath,
                              const std::string& device);

// ---- Generation tasks ---------------------------------------------------------------------------
// One JSONL line per item: {"prompt": str, "answer": str}. The reply is generated greedily
// (temperature 0) up to maxTokens, cut at the first `until` string, and scored against the answer:
//   exact_match: the reply equals the answer, both stripped of surrounding whitespace;
//   contains:    the reply contains the answer (stripped);
//   regex:       the answer is an ECMAScript regular expression found in the reply.
struct GenerationItem {
    std::string prompt;
    std::string answer;
    int line = 0;
};
struct GenerationConfig {
    std::string scoring = "exact_match"; // "exact_match", "contains", "regex"
    int maxTokens = 64;
    bool chat = false;              // wrap the prompt as one user turn in the model's chat template
    std::vector<std::string> until; // stop strings (the reply is cut before the first)
    int limit = 0;                  // first N items only (0: all)
};
struct GenerationItemResult {
    std::string output;
    bool correct = false;
    int generatedTokens = 0;
};
struct GenerationResult {
    int64_t items = 0;
    double score = 0; // fraction correct under config.scoring
    std::vector<GenerationItemResult> perItem;
};

Result<std::vector<GenerationItem>> readGenerationItems(const std::string& jsonlFile);
// Errors: an unknown scoring name, or a regex answer that does not compile (naming the item).
Result<bool> scoreGeneration(const std::string& scoring, const std::string& output,
                             const std::string& answer);
Result<GenerationResult> evalGenerationItems(std::shared_ptr<const Model> model,
                                             std::span<const GenerationItem> items,
                                             const GenerationConfig& config,
                                             const EvalOptions& options = {},
                                             const EvalProgress& progress = {});
Result<GenerationResult> evalGeneration(std::shared_ptr<const Model> model,
                                        const std::string& jsonlFile,
                                        const GenerationConfig& config,
                                        const EvalOptions& options = {},
                                        const EvalProgress& progress = {});

// ---- Routing analysis ---------------------------------------------------------------------------
// Each domain's text is tokenized (with BOS), cut into disjoint chunks of `context` tokens, and run
// through the model with routing collection on. share[il * nExpert + e] = token-expert assignments
// of expert e in layer il / all assignments of the layer (0 for dense layers). entropy[il] is the
// layer's normalized load-balance entropy (RoutingStats::normalizedLoadEntropy) of all domains
// pooled; entropyMean averages it over MoE layers. A domain's affinity[il * nExpert + e] is its
// share over the mean share of the domains (1: as often as on average; 0 where the mean is 0).
struct RoutingDomain {
    std::string name;
    std::string file;
};
struct RoutingConfig {
    int context = 512;
};
struct RoutingDomainResult {
    std::string name, file;
    int64_t tokens = 0;
    std::vector<double> share;    // [nLayer * nExpert]
    std::vector<double> affinity; // [nLayer * nExpert]
    std::vector<double> entropy;  // [nLayer], normalized
};
struct RoutingAnalysis {
    int nLayer = 0, nExpert = 0;
    std::vector<bool> moeLayer;  // [nLayer]
    int64_t tokens = 0;          // all domains
    std::vector<double> share;   // [nLayer * nExpert], domains pooled
    std::vector<double> entropy; // [nLayer], normalized, domains pooled
    double entropyMean = 0;      // over MoE layers
    std::vector<RoutingDomainResult> domains;
};

Result<RoutingAnalysis> analyzeRouting(std::shared_ptr<const Model> model,
                                       std::span<const RoutingDomain> domains,
                                       const RoutingConfig& config, const EvalOptions& options = {},
                                       const EvalProgress& progress = {});

} // namespace moe
