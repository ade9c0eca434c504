// Float32 GEMM for the trainer and the CPU backward passes: C = alpha · op(A) · op(B) + beta · C
// through OpenBLAS (held to one thread, rows of C split over the caller's ThreadPool, as
// cpu-matmul.h does), and the input gradient of a linear over a weight of any stored type
// (dx = dy · W, W dequantized a panel of rows at a time into a bounded scratch buffer).
// Row-major throughout; shapes as the BLAS contract names them (M, N, K).
#pragma once

#include "ops/ops.h"

#include <cstdint>

namespace moe {
class ThreadPool;
}

namespace moe::cpu {

// C[M, N] = alpha · op(A) · op(B) + beta · C. op(A) is [M, K]: A is [M, K] (lda >= K) or, transA,
// [K, M] (lda >= M); op(B) is [K, N]: B is [K, N] (ldb >= N) or, transB, [N, K] (ldb >= K).
// Rows of C are split over pool (may be null); beta == 0 ignores C's old contents.
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          ThreadPool* pool);

// dx[nTok, W.cols] (+)= dy[nTok, W.rows] · W for any WeightView type; accumulate: add to dx
// instead of overwriting it.
void matmulInputGrad(const float* dy, int nTok, const ops::WeightView& w, float* dx,
                     bool accumulate, ThreadPool* pool);

} // namespace moe::cpu
