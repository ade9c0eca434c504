// Router backward (forward: ops/router.cpp) with the chosen experts fixed, as transformers
// differentiates its routers: topk indices carry no gradient, the chosen scores do. Per token,
// from the gradient of the routed weights back to the logits:
//   u_j = dW_j * scale                                   (w_j = scale * q_j)
//   normalize:  q_j = p_j / (S + 1e-20), S = sum_m p_m  ->  dp_j = u_j / (S + e) - <u, p> / (S +
//   e)^2 else:       q_j = p_j                               ->  dp_j = u_j softmax:    dl = p ⊙
//   (dp - <p, dp>)    (dp zero outside the chosen set; all logits receive) sigmoid:    dl_e = dp_e
//   * p_e * (1 - p_e)           (only chosen experts receive)
// The selection bias and the group masking act on selection only and receive nothing.
#include "ops/ops-backward.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

namespace moe::ops {

void routeBackward(const float* logits, const int32_t* ids, const float* dWeights, int nTok,
                   int nExpert, const RouterParams& rp, float* dLogits) {
    const int k = rp.k;
    std::vector<float> p(static_cast<size_t>(nExpert)), dp(static_cast<size_t>(nExpert));
    for (int t = 0; t < nTok; ++t) {
        const float* l = logits + int64_t(t) * nExpert;
        const int32_t* id = ids + int64_t(t) * k;
        const float* dw = dWeights + int64_t(t) * k;
        float* dl = dLogits + int64_t(t) * nExpert;
        if (rp.sigmoid) {
            for (int e = 0; e < nExpert; ++e)
                p[size_t(e)] = 1.0f / (1.0f + std::exp(-l[e]));
        } else {
            std::copy(l, l + nExpert, p.begin());
            softmax(p.data(), nExpert);
        }
        float sum = 0, up = 0; // S and <u, p> over the chosen
        for (int j = 0; j < k; ++j) {
            assert(id[j] >= 0 && id[j] < nExpert);
            sum += p[size_t(id[j])];
            up += dw[j] * rp.scale * p[size_t(id[j])];
        }
        // Every chosen p sits in S, so each receives -<u, p> / (S + e)^2 even where its own u is 0.
        std::fill(dp.begin(), dp.end(), 0.0f);
        const float denom = sum + 1e-20f;
        for (int j = 0; j < k; ++j) {
            const float u = dw[j] * rp.scale;
            dp[size_t(id[j])] += rp.normalize ? u / denom - up / (denom * denom) : u;
        }
        if (rp.sigmoid) {
            for (int e = 0; e < nExpert; ++e)
                dl[e] = dp[size_t(e)] * p[size_t(e)] * (1.0f - p[size_t(e)]);
        } else {
            float pdp = 0;
            for (int e = 0; e < nExpert; ++e)
                pdp += p[size_t(e)] * dp[size_t(e)];
            for (int e = 0; e < nExpert; ++e)
                dl[e] = p[size_t(e)] * (dp[size_t(e)] - pdp);
        }
    }
}

} // namespace moe::ops
