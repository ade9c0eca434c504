// Embedding backward: the forward gathers rows h[t] = E[ids[t]] (models/decoder.cpp), so the
// gradient scatters them back, dE[ids[t]] += dh[t]; a token that occurs twice adds twice. Serial
// in token order, so the sums are reproducible.
#include "ops/ops-backward.h"

namespace moe::ops {

void embeddingBackward(const int32_t* ids, const float* dh, int nTok, int64_t nEmbd, float* dEmbd) {
    for (int t = 0; t < nTok; ++t) {
        float* d = dEmbd + int64_t(ids[t]) * nEmbd;
        const float* g = dh + int64_t(t) * nEmbd;
        for (int64_t i = 0; i < nEmbd; ++i)
            d[i] += g[i];
    }
}

} // namespace moe::ops
