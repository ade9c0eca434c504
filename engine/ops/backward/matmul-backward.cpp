// Matmul backward (forward: ops/matmul.cpp, y = x Wᵀ). To the input, dx = dy · W for any weight
// type: each worker takes a range of tokens and converts every weight row to float32 once per
// range, so a quantized W costs one dequantization per worker, as the forward's rows do. To an
// F32 weight, dW += dyᵀ · x: each worker owns a range of weight rows (no two write one element).
#include "core/thread-pool.h"
#include "ops/ops-backward.h"

#include <algorithm>
#include <vector>

namespace moe::ops {

void matmulBackwardInput(const float* dy, int nTok, const WeightView& w, float* dx,
                         ThreadPool* pool) {
    const int64_t nOut = w.rows, nIn = w.cols;
    auto tokens = [&](size_t t0, size_t t1) {
        std::vector<float> row(static_cast<size_t>(nIn));
        for (size_t t = t0; t < t1; ++t)
            std::fill(dx + int64_t(t) * nIn, dx + int64_t(t + 1) * nIn, 0.0f);
        for (int64_t r = 0; r < nOut; ++r) {
            const float* wr;
            if (w.type == WeightType::F32) {
                wr = static_cast<const float*>(w.data) + r * nIn;
            } else {
                w.rowToF32(r, row.data());
                wr = row.data();
            }
            for (size_t t = t0; t < t1; ++t) {
                const float g = dy[int64_t(t) * nOut + r];
                if (g == 0.0f) continue;
                float* d = dx + int64_t(t) * nIn;
                for (int64_t c = 0; c < nIn; ++c)
                    d[c] += g * wr[c];
            }
        }
    };
    if (pool && nTok > 1 && nOut * nIn * int64_t(nTok) >= (1 << 15))
        pool->parallelFor(size_t(nTok), tokens);
    else
        tokens(0, size_t(nTok));
}

void matmulBackwardWeight(const float* x, const float* dy, int nTok, int64_t rows, int64_t cols,
                          float* dw, ThreadPool* pool) {
    auto work = [&](size_t r0, size_t r1) {
        for (size_t r = r0; r < r1; ++r) {
            float* d = dw + int64_t(r) * cols;
            for (int t = 0; t < nTok; ++t) {
                const float g = dy[int64_t(t) * rows + int64_t(r)];
                if (g == 0.0f) continue;
                const float* xr = x + int64_t(t) * cols;
                for (int64_t c = 0; c < cols; ++c)
                    d[c] += g * xr[c];
            }
        }
    };
    if (pool && rows > 1 && rows * cols * int64_t(nTok) >= (1 << 15))
        pool->parallelFor(size_t(rows), work);
    else
        work(0, size_t(rows));
}

void biasBackward(const float* dy, int nTok, int64_t n, float* db) {
    for (int64_t i = 0; i < n; ++i) {
        double acc = 0;
        for (int t = 0; t < nTok; ++t)
            acc += dy[int64_t(t) * n + i];
        db[i] += float(acc);
    }
}

} // namespace moe::ops
