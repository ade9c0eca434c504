// SwiGLU activation reference: silu(gate) * up (reference/model-formats.md §1.2).
#include "ops/ops.h"

#include <cmath>

namespace moe::ops {

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

} // namespace moe::ops
