// KvCache v1: one contiguous float32 K and V array per layer, [nCtx, kDim] and [nCtx, vDim], the
// widths a family asks for (models/decoder.h KvGeometry): GQA keeps K and V rows of
// nHeadKv * headDim; MLA keeps one latent row (kv_lora_rank + rope dims) and no V. The paged
// cache replaces the storage later; the forward only sees layerK/layerV pointers.
#pragma once

#include "models/kv-view.h"
#include "moe/status.h"

#include <cstdint>
#include <vector>

namespace moe {

class KvCache final : public KvView {
public:
    // Allocates nLayer * nCtx * (kDim + vDim) floats; fails with OutOfMemory rather than throwing.
    Status init(int nLayer, int nCtx, int kDim, int vDim);

    int capacity() const override { return m_nCtx; }
    float* layerK(int il) override { return m_k.data() + size_t(il) * size_t(m_nCtx) * size_t(m_kDim); }
    float* layerV(int il) override {
        return m_vDim == 0 ? nullptr : m_v.data() + size_t(il) * size_t(m_nCtx) * size_t(m_vDim);
    }
    uint64_t bytes() const { return (m_k.size() + m_v.size()) * sizeof(float); }

private:
    int m_nLayer = 0;
    int m_nCtx = 0;
    int m_kDim = 0;
    int m_vDim = 0;
    std::vector<float> m_k;
    std::vector<float> m_v;
};

} // namespace moe
