// Perplexity over a token stream by Hugging Face's sliding-window method (moe/evals.h): windows of
// `context` tokens every `stride` tokens, each scoring only the tokens no earlier window scored,
// so with stride < context every scored token sees at least context - stride tokens before it.
// Each window runs from an empty KV cache; NLLs are summed in double from a double log-softmax.
#include "bench/eval-common.h"

#include <cmath>

namespace moe {

Result<std::vector<EvalWindow>> slidingWindows(int64_t nTokens, int context, int stride) {
    if (context < 2)
        return Status(StatusCode::InvalidArgument,
                      "context " + std::to_string(context) + ": must be at least 2 tokens");
    if (stride < 1 || stride > context)
        return Status(StatusCode::InvalidArgument, "stride " + std::to_string(stride) +
                                                       ": must be between 1 and the context (" +
                                                       std::to_string(context) + ")");
    if (nTokens < 2)
        return Status(StatusCode::InvalidArgument, "the text has " + std::to_string(nTokens) +
                                                       " token(s); perplexity needs at least 2");
    std::vector<EvalWindow> windows;
    int64_t prevEnd = 0;
    for (int64_t begin = 0; begin < nTokens; begin += stride) {
        const int64_t end = std::min<int64_t>(begin + context, nTokens);
        const int64_t from = std::max(prevEnd, begin + 1);
        if (from < end) windows.push_back({.begin = begin, .end = end, .scoreFrom = from});
        prevEnd = end;
        if (end == nTokens) break;
    }
    return windows;
}

Result<PerplexityResult> evalPerplexityTokens(std::shared_ptr<const Model> model,
                                              std::span<const int32_t> ids,
                                              const PerplexityConfig& config,
                                              const EvalOptions& options,
                                              const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "perplexity: no model");
    const int stride = config.stride > 0 ? config.stride : config.context;
    MOE_ASSIGN_OR_RETURN(std::vector<EvalWindow> windows,
                         slidingWindows(int64_t(ids.size()), config.context, stride));
    const int32_t nVocab = model->spec().nVocab;
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= nVocab)
            return Status(StatusCode::InvalidArgument, "perplexity: token " + std::to_string(i) +
                                                           " (id " + std::to_string(ids[i]) +
                                                           ") is outside the vocabulary");
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                         evals::makeSession(model, options, config.context));
    if (session->contextSize() < config.context)
        return Status(StatusCode::InvalidArgument,
                      "perplexity: context " + std::to_string(config.context) +
                          " exceeds the session's " + std::to_string(session->contextSize()));
    PerplexityResult r;
    r.windows = windows;
    for (size_t w = 0; w < windows.size(); ++w) {
        MOE_TRY(evals::checkProgress(progress, "perplexity", int64_t(w), int64_t(windows.size())));
        const EvalWindow& win = windows[w];
        session->reset();
        double windowNll = 0;
        const auto tokens = ids.subspan(size_t(win.begin), size_t(win.end - win.begin));
        // Row j of the window predicts absolute token begin + j + 1.
        MOE_TRY(evals::evaluateRows(
            *session, tokens, win.scoreFrom - 1 - win.begin, win.end - 1 - win.begin,
            [&](int64_t row, std::span<const float> logits) {
                const int32_t target = tokens[size_t(row + 1)];
                const double nll = evals::logSumExp(logits) - double(logits[size_t(target)]);
                windowNll += nll;
                r.tokenNll.push_back(float(nll));
                return Status::ok();
            }));
        r.windowNll.push_back(windowNll);
        r.nllSum += windowNll;
        r.tokens += win.end - win.scoreFrom;
    }
    r.nllMean = r.nllSum / double(r.tokens);
    r.ppl = std::exp(r.nllMean);
    return r;
}

Result<PerplexityResult> evalPerplexity(std::shared_ptr<const Model> model,
                                        const std::string& textFile, const PerplexityConfig& config,
                                        const EvalOptions& options, const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "perplexity: no model");
    MOE_TRY(evals::requireTokenizer(*model, "perplexity"));
    MOE_ASSIGN_OR_RETURN(std::string text, evals::readTextFile(textFile));
    const std::vector<int32_t> ids = model->tokenizer().encode(text, config.addBos);
    auto r = evalPerplexityTokens(model, ids, config, options, progress);
    if (!r.isOk()) return Status(r.status().code(), textFile + ": " + r.status().message());
    return r;
}

} // namespace moe
