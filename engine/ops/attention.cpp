// Causal multi-head attention reference over a KV cache (eager HF semantics, §1.5): scores in
// float32, max-subtracted softmax, GQA by contiguous blocks of query heads. Parallel over
// (token, head) pairs.
#include "core/thread-pool.h"
#include "ops/ops.h"

#include <cmath>
#include <vector>

namespace moe::ops {

void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, int nHead, int nHeadKv, int headDim, float scale, ThreadPool* pool) {
    const int group = nHead / nHeadKv;
    const int64_t qStride = int64_t(nHead) * headDim;
    const int64_t kvStride = int64_t(nHeadKv) * headDim;
    auto work = [&](size_t begin, size_t end) {
        std::vector<float> scores(size_t(pos0 + nTok));
        for (size_t job = begin; job < end; ++job) {
            const int t = int(job / size_t(nHead));
            const int h = int(job % size_t(nHead));
            const int kvh = h / group;
            const int nKeys = pos0 + t + 1;
            const float* qv = q + t * qStride + int64_t(h) * headDim;
            float maxScore = -INFINITY;
            for (int j = 0; j < nKeys; ++j) {
                const float* kv = kCache + j * kvStride + int64_t(kvh) * headDim;
                float s = 0;
                for (int d = 0; d < headDim; ++d) s += qv[d] * kv[d];
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
            float* o = out + t * qStride + int64_t(h) * headDim;
            for (int d = 0; d < headDim; ++d) o[d] = 0;
            for (int j = 0; j < nKeys; ++j) {
                const float p = scores[size_t(j)] * inv;
                const float* vv = vCache + j * kvStride + int64_t(kvh) * headDim;
                for (int d = 0; d < headDim; ++d) o[d] += p * vv[d];
            }
        }
    };
    const size_t jobs = size_t(nTok) * size_t(nHead);
    if (pool && jobs > 1)
        pool->parallelFor(jobs, work);
    else
        work(0, jobs);
}

} // namespace moe::ops
