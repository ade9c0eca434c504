// Router reference for every family (reference/model-formats.md §2.7, §7): softmax or sigmoid
// scores in float32, optional selection bias, group-limited selection (max or top-2-sum group
// scores, 0.0 masking as HF), top-k with lower-index tie-break, renormalization, scaling.
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

namespace {

// Indices of the k largest values (ties: lower index first), best first.
void topK(const std::vector<float>& v, int k, std::vector<int32_t>& order) {
    order.resize(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        return v[size_t(a)] > v[size_t(b)] || (v[size_t(a)] == v[size_t(b)] && a < b);
    });
}

} // namespace

void route(const float* logits, int nTok, int nExpert, const RouterParams& rp, int32_t* ids,
           float* weights) {
    const int k = rp.k;
    std::vector<float> scores(static_cast<size_t>(nExpert)), sel(static_cast<size_t>(nExpert));
    std::vector<int32_t> order, groupOrder;
    const int nGroup = std::max(rp.nGroup, 1);
    const int perGroup = nExpert / nGroup;
    std::vector<float> groupScore(static_cast<size_t>(nGroup));
    for (int t = 0; t < nTok; ++t) {
        const float* l = logits + int64_t(t) * nExpert;
        if (rp.sigmoid) {
            for (int e = 0; e < nExpert; ++e) scores[size_t(e)] = 1.0f / (1.0f + std::exp(-l[e]));
        } else {
            std::copy(l, l + nExpert, scores.begin());
            softmax(scores.data(), nExpert);
        }
        for (int e = 0; e < nExpert; ++e) sel[size_t(e)] = scores[size_t(e)] + (rp.bias ? rp.bias[e] : 0.0f);
        if (nGroup > 1 && rp.topkGroup < nGroup) {
            for (int g = 0; g < nGroup; ++g) {
                const float* gs = sel.data() + int64_t(g) * perGroup;
                if (rp.groupByTopTwoSum) {
                    float a = -INFINITY, b = -INFINITY; // the two largest
                    for (int i = 0; i < perGroup; ++i) {
                        if (gs[i] > a) {
                            b = a;
                            a = gs[i];
                        } else if (gs[i] > b) {
                            b = gs[i];
                        }
                    }
                    groupScore[size_t(g)] = perGroup > 1 ? a + b : a;
                } else {
                    groupScore[size_t(g)] = *std::max_element(gs, gs + perGroup);
                }
            }
            topK(groupScore, rp.topkGroup, groupOrder);
            std::vector<bool> keep(static_cast<size_t>(nGroup), false);
            for (int j = 0; j < rp.topkGroup; ++j) keep[size_t(groupOrder[size_t(j)])] = true;
            for (int e = 0; e < nExpert; ++e)
                if (!keep[size_t(e / perGroup)]) sel[size_t(e)] = 0.0f;
        }
        topK(sel, k, order);
        float sum = 0;
        for (int j = 0; j < k; ++j) sum += scores[size_t(order[size_t(j)])];
        for (int j = 0; j < k; ++j) {
            ids[t * k + j] = order[size_t(j)];
            float w = scores[size_t(order[size_t(j)])];
            if (rp.normalize) w /= sum + 1e-20f; // HF DeepSeek's epsilon; no effect on a positive sum
            weights[t * k + j] = w * rp.scale;
        }
    }
}

} // namespace moe::ops
