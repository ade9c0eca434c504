// RoPE backward (forward: ops/rope.cpp). The forward maps each pair (x0, x1) to
// af · [[c, -s], [s, c]] · (x0, x1) with c, s the cosine and sine of the angle and af the
// attention factor; its transpose, applied here in place to the gradient, is
// af · [[c, s], [-s, c]]: the inverse rotation times af. Same frequencies, angles and pairings
// (interleaved (2i, 2i+1) or half (i, i + nRot/2)) as the forward, so any RopeFreqs works.
#include "ops/ops-backward.h"

#include <cmath>
#include <vector>

namespace moe::ops {

void ropeBackward(float* g, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
                  int nRot, const int32_t* pos, const RopeFreqs& freqs, bool interleaved) {
    const int half = nRot / 2;
    std::vector<float> cosv(static_cast<size_t>(half)), sinv(static_cast<size_t>(half));
    for (int t = 0; t < nTok; ++t) {
        for (int i = 0; i < half; ++i) {
            const float a = float(pos[t]) * freqs.invFreq[size_t(i)];
            cosv[size_t(i)] = std::cos(a) * freqs.attentionFactor;
            sinv[size_t(i)] = std::sin(a) * freqs.attentionFactor;
        }
        for (int h = 0; h < nHead; ++h) {
            float* v = g + int64_t(t) * rowStride + int64_t(h) * headStride + offset;
            for (int i = 0; i < half; ++i) {
                const int a = interleaved ? 2 * i : i;
                const int b = interleaved ? 2 * i + 1 : i + half;
                const float g0 = v[a], g1 = v[b];
                v[a] = g0 * cosv[size_t(i)] + g1 * sinv[size_t(i)];
                v[b] = g1 * cosv[size_t(i)] - g0 * sinv[size_t(i)];
            }
        }
    }
}

} // namespace moe::ops
