// RoPE backward (forward: ops/rope.cpp). The forward maps each pair (x0, x1) to
// af · [[c, -s], [s, c]] · (x0, x1) with c, s the cosine and sine of the angle and af the
// attention factor; its transpose, applied here in place to the gradient, is
// af · [[c, s], [-s, c]]: the rotation by the negated angle times af — the forward itself at
// negated positions (cos is even, sin odd), so both pairings and any RopeFreqs follow it.
#include "ops/ops-backward.h"

#include <vector>

namespace moe::ops {

void ropeBackward(float* g, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
                  int nRot, const int32_t* pos, const RopeFreqs& freqs, bool interleaved) {
    std::vector<int32_t> negated(pos, pos + nTok);
    for (int32_t& p : negated) p = -p;
    ropeApply(g, nTok, rowStride, nHead, headStride, offset, nRot, negated.data(), freqs, interleaved);
}

} // namespace moe::ops
