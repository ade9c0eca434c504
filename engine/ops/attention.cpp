// Causal multi-head attention reference over a KV cache (eager HF semantics, §1.5): scores in
// float32, max-subtracted softmax, GQA by contiguous blocks of query heads. K and V widths and
// row strides are independent, which covers GQA (K and V rows apart), MHA with dk != dv
// (DeepSeek decompressed) and MLA's latent MQA (V = the first dv values of each K row).
// Parallel over (token, head) pairs.
#include "core/thread-pool.h"
#include "ops/ops.h"

#include <cmath>
#include <vector>

namespace moe::ops {

void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, const AttentionShape& sh, float scale, ThreadPool* pool) {
    const int group = sh.nHead / sh.nHeadKv;
    const int64_t qStride = int64_t(sh.nHead) * sh.dk;
    const int64_t oStride = int64_t(sh.nHead) * sh.dv;
    auto work = [&](size_t begin, size_t end) {
        std::vector<float> scores(static_cast<size_t>(pos0 + nTok));
        for (size_t job = begin; job < end; ++job) {
            const int t = int(job / size_t(sh.nHead));
            const int h = int(job % size_t(sh.nHead));
            const int kvh = h / group;
            const int nKeys = pos0 + t + 1;
            const float* qv = q + t * qStride + int64_t(h) * sh.dk;
            float maxScore = -INFINITY;
            for (int j = 0; j < nKeys; ++j) {
                const float* kv = kCache + j * sh.kStride + int64_t(kvh) * sh.dk;
                float s = 0;
                for (int d = 0; d < sh.dk; ++d) s += qv[d] * kv[d];
                s *= scale;
                scores[size_t(j)] = s;
                if (s > maxScore) maxScore = s;
            }
            float sum = 0;
            for (int j = 0; j < nKeys; ++j) {
                scores[size_t(j)] = std::exp(scores[size_t(j)] - maxScore);
                sum += scores[size_t(j)];
            }
            const float inv = 1.0f / sum;
            float* o = out + t * oStride + int64_t(h) * sh.dv;
            for (int d = 0; d < sh.dv; ++d) o[d] = 0;
            for (int j = 0; j < nKeys; ++j) {
                const float p = scores[size_t(j)] * inv;
                const float* vv = vCache + j * sh.vStride + int64_t(kvh) * sh.dv;
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
               int pos0, int nHead, int nHeadKv, int headDim, float scale, ThreadPool* pool) {
    AttentionShape sh;
    sh.nHead = nHead;
    sh.nHeadKv = nHeadKv;
    sh.dk = sh.dv = headDim;
    sh.kStride = sh.vStride = int64_t(nHeadKv) * headDim;
    attention(q, kCache, vCache, out, nTok, pos0, sh, scale, pool);
}

} // namespace moe::ops
