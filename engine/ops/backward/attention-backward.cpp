// Causal attention backward (forward: ops/attention.cpp, contiguous form). Per query token t and
// head h over its keys j (causal, optional window), with the softmax recomputed from the saved
// inputs q, K, V (nothing else is saved):
//   s_j = scale <q, k_j>,  P = softmax(s),  o = sum_j P_j v_j
//   dV_j += P_j dO,  dP_j = <dO, v_j>,  dS_j = P_j (dP_j - <P, dP>)
//   dq = scale sum_j dS_j k_j,  dK_j += scale dS_j q
// One job per KV head (its group of query heads, every token): the jobs write disjoint columns
// of dK and dV, so they run in parallel unless K and V share one gradient buffer (MLA), where
// the columns may overlap and the loop runs on the calling thread.
#include "core/thread-pool.h"
#include "ops/ops-backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace moe::ops {

void attentionBackward(const float* q, const float* kCache, const float* vCache, const float* dOut,
                       float* dq, float* dK, float* dV, int nTok, int pos0,
                       const AttentionShape& sh, float scale, ThreadPool* pool) {
    const int group = sh.nHead / sh.nHeadKv;
    const int64_t qStride = int64_t(sh.nHead) * sh.dk;
    const int64_t oStride = int64_t(sh.nHead) * sh.dv;
    const size_t nKeys = size_t(pos0 + nTok);
    auto work = [&](size_t g0, size_t g1) {
        std::vector<float> p(nKeys), dp(nKeys);
        for (size_t kvh = g0; kvh < g1; ++kvh) {
            for (int h = int(kvh) * group; h < int(kvh + 1) * group; ++h) {
                for (int t = 0; t < nTok; ++t) {
                    const int last = pos0 + t;
                    const int first = sh.window > 0 ? std::max(0, last - sh.window + 1) : 0;
                    const float* qv = q + t * qStride + int64_t(h) * sh.dk;
                    const float* dO = dOut + t * oStride + int64_t(h) * sh.dv;
                    auto kRow = [&](int j) {
                        return kCache + j * sh.kStride + int64_t(kvh) * sh.dk;
                    };
                    auto vRow = [&](int j) {
                        return vCache + j * sh.vStride + int64_t(kvh) * sh.dv;
                    };
                    // The forward's softmax, recomputed.
                    float maxScore = -INFINITY;
                    for (int j = first; j <= last; ++j) {
                        const float* kv = kRow(j);
                        float s = 0;
                        for (int d = 0; d < sh.dk; ++d)
                            s += qv[d] * kv[d];
                        p[size_t(j)] = s * scale;
                        maxScore = std::max(maxScore, p[size_t(j)]);
                    }
                    float sum = 0;
                    for (int j = first; j <= last; ++j) {
                        p[size_t(j)] = std::exp(p[size_t(j)] - maxScore);
                        sum += p[size_t(j)];
                    }
                    const float inv = 1.0f / sum;
                    float pdp = 0; // <P, dP>
                    for (int j = first; j <= last; ++j) {
                        p[size_t(j)] *= inv;
                        const float* vv = vRow(j);
                        float s = 0;
                        for (int d = 0; d < sh.dv; ++d)
                            s += dO[d] * vv[d];
                        dp[size_t(j)] = s;
                        pdp += p[size_t(j)] * s;
                    }
                    float* dqv = dq + t * qStride + int64_t(h) * sh.dk;
                    for (int d = 0; d < sh.dk; ++d)
                        dqv[d] = 0;
                    for (int j = first; j <= last; ++j) {
                        const float pj = p[size_t(j)];
                        const float ds = pj * (dp[size_t(j)] - pdp) * scale;
                        const float* kv = kRow(j);
                        float* dkv = dK + j * sh.kStride + int64_t(kvh) * sh.dk;
                        float* dvv = dV + j * sh.vStride + int64_t(kvh) * sh.dv;
                        for (int d = 0; d < sh.dk; ++d) {
                            dqv[d] += ds * kv[d];
                            dkv[d] += ds * qv[d];
                        }
                        for (int d = 0; d < sh.dv; ++d)
                            dvv[d] += pj * dO[d];
                    }
                }
            }
        }
    };
    if (pool && sh.nHeadKv > 1 && dK != dV)
        pool->parallelFor(size_t(sh.nHeadKv), work);
    else
        work(0, size_t(sh.nHeadKv));
}

} // namespace moe::ops
