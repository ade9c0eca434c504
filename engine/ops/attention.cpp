// Causal multi-head attention reference over a KV cache (eager HF semantics, §1.5): scores in
// float32, max-subtracted softmax, GQA by contiguous blocks of query heads. K and V widths and
// row strides are independent, which covers GQA (K and V rows apart), MHA with dk != dv
// (DeepSeek decompressed) and MLA's latent MQA (V = the first dv values of each K row). Rows
// may be paged per sequence (a batch mixes sequences); an optional sliding window limits the
// keys. Parallel over (token, head) pairs.
#include "core/thread-pool.h"
#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace moe::ops {

void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               const int32_t* pos, const KvPages& pages, const AttentionShape& sh, float scale,
               ThreadPool* pool) {
    const int group = sh.nHead / sh.nHeadKv;
    const int64_t qStride = int64_t(sh.nHead) * sh.dk;
    const int64_t oStride = int64_t(sh.nHead) * sh.dv;
    int maxPos = 0;
    for (int t = 0; t < nTok; ++t) maxPos = std::max(maxPos, pos[t]);
    auto work = [&](size_t begin, size_t end) {
        std::vector<float> scores(static_cast<size_t>(maxPos + 1));
        std::vector<int64_t> rows(static_cast<size_t>(maxPos + 1));
        int rowsFor = -1; // the token whose physical rows are in `rows`
        for (size_t job = begin; job < end; ++job) {
            const int t = int(job / size_t(sh.nHead));
            const int h = int(job % size_t(sh.nHead));
            const int kvh = h / group;
            const int first = sh.window > 0 ? std::max(0, pos[t] - sh.window + 1) : 0;
            const int last = pos[t];
            if (rowsFor != t) {
                const int32_t* table = pages.tables ? pages.tables[t] : nullptr;
                for (int j = first; j <= last; ++j)
                    rows[size_t(j)] = table ? int64_t(table[j / pages.pageSize]) * pages.pageSize + j % pages.pageSize : j;
                rowsFor = t;
            }
            const float* qv = q + t * qStride + int64_t(h) * sh.dk;
            float maxScore = -INFINITY;
            for (int j = first; j <= last; ++j) {
                const float* kv = kCache + rows[size_t(j)] * sh.kStride + int64_t(kvh) * sh.dk;
                float s = 0;
                for (int d = 0; d < sh.dk; ++d) s += qv[d] * kv[d];
                s *= scale;
                scores[size_t(j)] = s;
                if (s > maxScore) maxScore = s;
            }
            float sum = 0;
            for (int j = first; j <= last; ++j) {
                scores[size_t(j)] = std::exp(scores[size_t(j)] - maxScore);
                sum += scores[size_t(j)];
            }
            const float inv = 1.0f / sum;
            float* o = out + t * oStride + int64_t(h) * sh.dv;
            for (int d = 0; d < sh.dv; ++d) o[d] = 0;
            for (int j = first; j <= last; ++j) {
                const float p = scores[size_t(j)] * inv;
                const float* vv = vCache + rows[size_t(j)] * sh.vStride + int64_t(kvh) * sh.dv;
                for (int d = 0; d < sh.dv; ++d) o[d] += p * vv[d];
            }
        }
    };
    const size_t jobs = size_t(nTok) * size_t(sh.nHead);
    if (pool && jobs > 1)
        pool->parallelFor(jobs, work);
    else
        work(0, jobs);
}

void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, const AttentionShape& shape, float scale, ThreadPool* pool) {
    std::vector<int32_t> pos(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) pos[size_t(t)] = pos0 + t;
    attention(q, kCache, vCache, out, nTok, pos.data(), KvPages{}, shape, scale, pool);
}

void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, int nHead, int nHeadKv, int headDim, float scale, ThreadPool* pool) {
    AttentionShape sh;
    sh.nHead = nHead;
    sh.nHeadKv = nHeadKv;
    sh.dk = sh.dv = headDim;
    sh.kStride = sh.vStride = int64_t(nHeadKv) * headDim;
    attention(q, kCache, vCache, out, nTok, pos0, sh, scale, pool);
}

} // namespace moe::ops
