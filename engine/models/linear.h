// linear(): the one place a family forward multiplies activations by a weight matrix, so the
// matmul implementation a forward runs (CPU reference or the optimized CPU backend) is chosen
// here, once, for every family.
#pragma once

#include "ops/ops.h"

namespace moe {

// y[t, r] = sum_c x[t, c] * W[r, c]; x: [nTok, W.cols], y: [nTok, W.rows] (ops::matmul's contract).
inline void linear(const float* x, int nTok, const ops::WeightView& w, float* y, ThreadPool* pool) {
    ops::matmul(x, nTok, w, y, pool);
}

} // namespace moe
