// KvCache v0: one contiguous float32 K and V array per layer, [nCtx, nHeadKv * headDim]. The paged
// cache (and the MLA latent cache) replaces it with issue [3 of 10]; the forward only sees
// layerK/layerV pointers, so that change stays inside this file.
#pragma once

#include "models/kv-view.h"
#include "moe/status.h"

#include <cstdint>
#include <vector>

namespace moe {

class KvCache final : public KvView {
public:
    // Allocates nLayer * nCtx * kvDim * 2 floats; fails with OutOfMemory rather than throwing.
    Status init(int nLayer, int nCtx, int kvDim);

    int capacity() const override { return m_nCtx; }
    int kvDim() const { return m_kvDim; }
    float* layerK(int il) override { return m_k.data() + size_t(il) * size_t(m_nCtx) * size_t(m_kvDim); }
    float* layerV(int il) override { return m_v.data() + size_t(il) * size_t(m_nCtx) * size_t(m_kvDim); }
    uint64_t bytes() const { return (m_k.size() + m_v.size()) * sizeof(float); }

private:
    int m_nLayer = 0;
    int m_nCtx = 0;
    int m_kvDim = 0;
    std::vector<float> m_k;
    std::vector<float> m_v;
};

} // namespace moe
