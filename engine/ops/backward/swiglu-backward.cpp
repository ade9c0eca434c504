// SwiGLU backward (forward: ops/swiglu.cpp, out = silu(gate) * up, silu(z) = z * s(z),
// s the logistic sigmoid): dUp = dOut * silu(gate), dGate = dOut * up * s * (1 + gate * (1 - s)).
#include "ops/ops-backward.h"

#include <cmath>

namespace moe::ops {

void swigluBackward(const float* gate, const float* up, const float* dOut, float* dGate, float* dUp,
                    int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float z = gate[i];
        const float s = 1.0f / (1.0f + std::exp(-z));
        const float g = dOut[i];
        const float dg = g * up[i] * s * (1.0f + z * (1.0f - s));
        dUp[i] = g * z * s;
        dGate[i] = dg;
    }
}

} // namespace moe::ops
