// Float32 GEMM and the linear input gradient over OpenBLAS; see cpu-gemm.h.
#include "backends/cpu/cpu-gemm.h"

#include "core/thread-pool.h"
#include "ops/quants/quants.h"

#include <algorithm>
#include <cblas.h>
#include <mutex>
#include <vector>

namespace moe::cpu {

namespace {

void oneBlasThread() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Splits [0, rows) over the pool when the work is worth it (about 2 MFLOP per chunk).
template <class Fn> void splitRows(ThreadPool* pool, int64_t rows, int64_t flopsPerRow, Fn&& fn) {
    const int64_t minRows = std::max<int64_t>(1, (int64_t(1) << 21) / std::max<int64_t>(flopsPerRow, 1));
    if (!pool || pool->size() <= 1 || rows < 2 * minRows) {
        fn(int64_t(0), rows);
        return;
    }
    const int64_t chunks = std::min<int64_t>(int64_t(pool->size()) * 4, rows / minRows);
    pool->parallelFor(size_t(chunks), [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c) {
            const int64_t r0 = rows * int64_t(c) / chunks, r1 = rows * int64_t(c + 1) / chunks;
            if (r1 > r0) fn(r0, r1);
        }
    });
}

constexpr int64_t kPanelFloats = int64_t(1) << 18; // 1 MiB of dequantized rows per panel

} // namespace

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          ThreadPool* pool) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    oneBlasThread();
    splitRows(pool, M, 2 * N * K, [&](int64_t r0, int64_t r1) {
        // Rows r0..r1 of op(A): A's rows when not transposed, A's columns when transposed.
        const float* a = transA ? A + r0 : A + r0 * lda;
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    int(r1 - r0), int(N), int(K), alpha, a, int(lda), B, int(ldb), beta, C + r0 * ldc, int(ldc));
    });
}

void matmulInputGrad(const float* dy, int nTok, const ops::WeightView& w, float* dx, bool accumulate,
                     ThreadPool* pool) {
    const int64_t rows = w.rows, cols = w.cols;
    if (nTok <= 0 || cols <= 0) return;
    if (rows <= 0) {
        if (!accumulate) std::fill(dx, dx + int64_t(nTok) * cols, 0.0f);
        return;
    }
    if (w.type == ops::WeightType::F32) {
        gemm(false, false, nTok, cols, rows, 1.0f, dy, rows, static_cast<const float*>(w.data), cols,
             accumulate ? 1.0f : 0.0f, dx, cols, pool);
        return;
    }
    // dx = sum over panels p of dy[:, p] · W[p, :]; panels dequantized one at a time.
    const int64_t panelRows = std::max<int64_t>(1, kPanelFloats / cols);
    std::vector<float> panel(size_t(std::min(panelRows, rows) * cols));
    for (int64_t p = 0; p < rows; p += panelRows) {
        const int64_t n = std::min(panelRows, rows - p);
        if (w.type == ops::WeightType::Quantized)
            (void)quants::dequantizeRow(w.ggmlType, static_cast<const uint8_t*>(w.data) + size_t(p) * w.rowBytes(),
                                        panel.data(), n * cols);
        else
            for (int64_t r = 0; r < n; ++r)
                w.rowToF32(p + r, panel.data() + r * cols);
        const bool first = p == 0 && !accumulate;
        gemm(false, false, nTok, cols, n, 1.0f, dy + p, rows, panel.data(), cols, first ? 0.0f : 1.0f, dx, cols,
             pool);
    }
}

} // namespace moe::cpu
