// KL divergence and top-1 agreement of a model against a reference model (moe/evals.h): both run
// the same sliding windows as perplexity; per scored token the two log-softmaxes (double) give
// KL(P_ref || P_model) and the argmaxes. This is what llama-perplexity --kl-divergence measures:
// how far a quantization or an adapter moved the model's next-token distribution.
#include "bench/eval-common.h"

#include <algorithm>
#include <cmath>

namespace moe {

Result<KlResult> evalKlTokens(std::shared_ptr<const Model> model,
                              std::shared_ptr<const Model> reference, std::span<const int32_t> ids,
                              const PerplexityConfig& config, const EvalOptions& options,
                              const EvalProgress& progress) {
    if (!model || !reference)
        return Status(StatusCode::InvalidArgument, "kl: no model or no reference model");
    const int nVocab = model->spec().nVocab;
    if (reference->spec().nVocab != nVocab)
        return Status(StatusCode::InvalidArgument,
                      "kl: " + model->info().path + " has " + std::to_string(nVocab) +
                          " vocabulary entries, the reference " + reference->info().path + " has " +
                          std::to_string(reference->spec().nVocab));
    const int stride = config.stride > 0 ? config.stride : config.context;
    MOE_ASSIGN_OR_RETURN(std::vector<EvalWindow> windows,
                         slidingWindows(int64_t(ids.size()), config.context, stride));
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= nVocab)
            return Status(StatusCode::InvalidArgument,
                          "kl: token " + std::to_string(i) + " is outside the vocabulary");
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> sm,
                         evals::makeSession(model, options, config.context));
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> sr,
                         evals::makeSession(reference, options, config.context));

    KlResult r;
    int64_t agree = 0;
    double nllModel = 0, nllRef = 0;
    for (size_t w = 0; w < windows.size(); ++w) {
        MOE_TRY(evals::checkProgress(progress, "kl", int64_t(w), int64_t(windows.size())));
        const EvalWindow& win = windows[w];
        const auto tokens = ids.subspan(size_t(win.begin), size_t(win.end - win.begin));
        const int64_t first = win.scoreFrom - 1 - win.begin, last = win.end - 1 - win.begin;
        // Both sessions take the window chunk by chunk (kChunk tokens), so at most one chunk of
        // logits per model is held, whatever the context and vocabulary.
        sr->reset();
        sm->reset();
        for (int64_t at = 0; at < last; at += evals::kChunk) {
            const int64_t len = std::min<int64_t>(evals::kChunk, int64_t(tokens.size()) - at);
            const bool needed = at + len > first;
            const auto chunk = tokens.subspan(size_t(at), size_t(len));
            MOE_ASSIGN_OR_RETURN(std::vector<float> lref, sr->evaluate(chunk, !needed));
            MOE_ASSIGN_OR_RETURN(std::vector<float> lmod, sm->evaluate(chunk, !needed));
            if (!needed) continue;
            for (int64_t row = std::max(at, first); row < std::min(at + len, last); ++row) {
                const std::span<const float> pr(lref.data() + size_t(row - at) * size_t(nVocab),
                                                size_t(nVocab));
                const std::span<const float> pm(lmod.data() + size_t(row - at) * size_t(nVocab),
                                                size_t(nVocab));
                const double lser = evals::logSumExp(pr), lsem = evals::logSumExp(pm);
                double kl = 0;
                for (size_t v = 0; v < size_t(nVocab); ++v) {
                    const double lp = double(pr[v]) - lser;
                    kl += std::exp(lp) * (lp - (double(pm[v]) - lsem));
                }
                r.tokenKl.push_back(float(std::max(kl, 0.0))); // rounding can leave -1e-12
                if (evals::argmaxRow(pm) == evals::argmaxRow(pr)) ++agree;
                const size_t target = size_t(tokens[size_t(row + 1)]);
                nllRef += lser - double(pr[target]);
                nllModel += lsem - double(pm[target]);
            }
        }
    }
    r.tokens = int64_t(r.tokenKl.size());
    std::vector<double> sorted(r.tokenKl.begin(), r.tokenKl.end());
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : sorted)
        sum += v;
    r.klMean = sum / double(r.tokens);
    r.klMedian = evals::percentileLinear(sorted, 50);
    r.klP95 = evals::percentileLinear(sorted, 95);
    r.klMax = sorted.back();
    r.top1Agreement = double(agree) / double(r.tokens);
    r.pplModel = std::exp(nllModel / double(r.tokens));
    r.pplReference = std::exp(nllRef / double(r.tokens));
    return r;
}

Result<KlResult> evalKl(std::shared_ptr<const Model> model, std::shared_ptr<const Model> reference,
                        const std::string& textFile, const PerplexityConfig& config,
                        const EvalOptions& options, const EvalProgress& progress) {
    if (!model || !reference)
        return Status(StatusCode::InvalidArgument, "kl: no model or no reference model");
    MOE_TRY(evals::requireTokenizer(*model, "kl"));
    MOE_TRY(evals::requireTokenizer(*reference, "kl"));
    MOE_ASSIGN_OR_RETURN(std::string text, evals::readTextFile(textFile));
    const std::vector<int32_t> ids = model->tokenizer().encode(text, config.addBos);
    if (reference->tokenizer().encode(text, config.addBos) != ids)
        return Status(StatusCode::InvalidArgument,
                      textFile + ": " + model->info().path + " and the reference " +
                          reference->info().path + " tokenize the text differently");
    auto r = evalKlTokens(model, reference, ids, config, options, progress);
    if (!r.isOk()) return Status(r.status().code(), textFile + ": " + r.status().message());
    return r;
}

} // namespace moe
