// The CPU backend's matmul: ops::matmul's contract (y = x W^T over F32/F16/BF16/quantized rows),
// fast. Two paths, picked by the token count:
//   decode (nTok < gemmMinTokens(W)): each weight row is read once and dotted with every token's
//     activation by SIMD kernels (cpu-dot.h); quantized rows dot an activation quantized to 8-bit
//     blocks (ggml's vec_dot scheme), float rows dot the float activation.
//   prefill (nTok >= gemmMinTokens(W)): OpenBLAS sgemm, straight over F32 weights, over other types
//     after dequantizing a panel of rows into a bounded per-thread scratch buffer.
// Rows are split over the ThreadPool in both paths. OpenBLAS is held to one thread (set once, for
// the process) and runs inside each pool worker on that worker's rows, so the pool alone decides
// how many cores a matmul uses: no second thread pool competes for the same cores.
#pragma once

#include "ops/ops.h"

namespace moe {
class ThreadPool;
}

namespace moe::cpu {

// y[t, r] = sum_c x[t, c] * W[r, c]; x: [nTok, W.cols], y: [nTok, W.rows]; pool may be null.
// Same contract and thread rules as ops::matmul (the caller's thread plus the pool's workers).
// Differs from it by float summation order and, for quantized W on the decode path, by the 8-bit
// quantization of x (test-cpu-matmul states the bounds).
void matmul(const float* x, int nTok, const ops::WeightView& w, float* y, ThreadPool* pool);

// The kernels chosen for this CPU at run time: "avx2" (AVX2 + FMA + F16C) or "scalar".
const char* matmulIsa();

// The BLAS behind the prefill path, e.g. "OpenBLAS 0.3.21 (Zen)".
const char* gemmLibrary();

// The token count from which matmul takes the sgemm path for weights like w: one value for the
// types with int8 kernels, one for float rows (measured, docs/perf/cpu.md).
int gemmMinTokens(const ops::WeightView& w);

// Test and measurement switches, process-wide; not for use while another thread runs matmul.
enum class MatmulPath { Auto, Dot, Gemm };
void forceMatmulPath(MatmulPath path);
// true: the portable scalar kernels even where AVX2 is available; false: back to detection.
void forceScalarKernels(bool force);

} // namespace moe::cpu
