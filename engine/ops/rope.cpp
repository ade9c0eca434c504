// RoPE reference, both pairings (reference/model-formats.md §1.3). Frequencies are computed the
// HF way, inv_freq[i] = 1 / theta^(2i/nRot) in float32, angle = pos * inv_freq in float32.
#include "ops/ops.h"

#include <cmath>
#include <vector>

namespace moe::ops {

void rope(float* x, int nTok, int nHead, int headDim, int nRot, const int32_t* pos, float theta,
          bool interleaved) {
    const int half = nRot / 2;
    std::vector<float> invFreq(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i)
        invFreq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(nRot));
    std::vector<float> cosv(static_cast<size_t>(half)), sinv(static_cast<size_t>(half));
    for (int t = 0; t < nTok; ++t) {
        for (int i = 0; i < half; ++i) {
            const float a = float(pos[t]) * invFreq[size_t(i)];
            cosv[size_t(i)] = std::cos(a);
            sinv[size_t(i)] = std::sin(a);
        }
        for (int h = 0; h < nHead; ++h) {
            float* v = x + (int64_t(t) * nHead + h) * headDim;
            for (int i = 0; i < half; ++i) {
                const int a = interleaved ? 2 * i : i;
                const int b = interleaved ? 2 * i + 1 : i + half;
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * cosv[size_t(i)] - x1 * sinv[size_t(i)];
                v[b] = x1 * cosv[size_t(i)] + x0 * sinv[size_t(i)];
            }
        }
    }
}

} // namespace moe::ops
