// Cross-entropy over the vocabulary with ignored positions (PyTorch F.cross_entropy with
// ignore_index -100, reduction mean; HF's causal-LM loss after its label shift). Per counted row:
//   loss_t = logsumexp(l_t) - l_t[label_t],   dl_t = (softmax(l_t) - onehot(label_t)) / divisor.
// The log-sum-exp is max-subtracted with the sum in double; per-row losses are kept and added
// in row order after the parallel loop, so the result does not depend on the pool size.
#include "core/thread-pool.h"
#include "ops/ops-backward.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace moe::ops {

Result<CrossEntropyResult> crossEntropy(const float* logits, const int32_t* labels, int nTok,
                                        int nVocab, int64_t divisor, float* dLogits,
                                        ThreadPool* pool) {
    CrossEntropyResult res;
    for (int t = 0; t < nTok; ++t) {
        if (labels[t] == kIgnoreLabel) continue;
        if (labels[t] < 0 || labels[t] >= nVocab)
            return Status(StatusCode::InvalidArgument,
                          "crossEntropy: label " + std::to_string(labels[t]) + " at position " +
                              std::to_string(t) + " is outside the vocabulary [0, " +
                              std::to_string(nVocab) + ") and is not -100");
        ++res.counted;
    }
    const int64_t denom = divisor > 0 ? divisor : res.counted;
    std::vector<double> rowLoss(static_cast<size_t>(nTok), 0.0);
    auto rows = [&](size_t t0, size_t t1) {
        for (size_t t = t0; t < t1; ++t) {
            const float* l = logits + int64_t(t) * nVocab;
            float* d = dLogits ? dLogits + int64_t(t) * nVocab : nullptr;
            const int32_t label = labels[t];
            if (label == kIgnoreLabel) {
                if (d) std::fill(d, d + nVocab, 0.0f);
                continue;
            }
            const float m = *std::max_element(l, l + nVocab);
            double sum = 0;
            for (int v = 0; v < nVocab; ++v)
                sum += std::exp(double(l[v]) - m);
            const double lse = double(m) + std::log(sum);
            rowLoss[t] = lse - double(l[label]);
            if (!d) continue;
            const double inv = 1.0 / double(denom);
            for (int v = 0; v < nVocab; ++v)
                d[v] = float(std::exp(double(l[v]) - lse) * inv);
            d[label] -= float(inv);
        }
    };
    if (pool && nTok > 1 && int64_t(nTok) * nVocab >= (1 << 14))
        pool->parallelFor(size_t(nTok), rows);
    else
        rows(0, size_t(nTok));
    if (denom == 0) return res; // nothing counted: loss 0, gradient 0 (rows were zeroed)
    double total = 0;
    for (double v : rowLoss)
        total += v;
    res.loss = total / double(denom);
    return res;
}

} // namespace moe::ops
