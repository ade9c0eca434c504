// Softmax top-k router reference (Mixtral/Qwen/OLMoE; reference/model-formats.md §3, §7):
// probabilities over all experts in float32, the k largest, optional renormalization.
#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace moe::ops {

void softmax(float* x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; ++i) m = std::max(m, x[i]);
    float sum = 0;
    for (int i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - m);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; ++i) x[i] *= inv;
}

void routerSoftmaxTopK(const float* logits, int nTok, int nExpert, int k, bool normalize,
                       int32_t* ids, float* weights) {
    std::vector<float> p(static_cast<size_t>(nExpert));
    std::vector<int32_t> order(static_cast<size_t>(nExpert));
    for (int t = 0; t < nTok; ++t) {
        std::copy(logits + int64_t(t) * nExpert, logits + int64_t(t + 1) * nExpert, p.begin());
        softmax(p.data(), nExpert);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
            return p[size_t(a)] > p[size_t(b)] || (p[size_t(a)] == p[size_t(b)] && a < b);
        });
        float sum = 0;
        for (int j = 0; j < k; ++j) sum += p[size_t(order[size_t(j)])];
        for (int j = 0; j < k; ++j) {
            ids[t * k + j] = order[size_t(j)];
            const float w = p[size_t(order[size_t(j)])];
            weights[t * k + j] = normalize ? w / sum : w;
        }
    }
}

} // namespace moe::ops
