// KvCache: the paged KV cache (models/kv-view.h) in a compute backend's memory (host memory for the
// CPU, device memory for a GPU). One float32 page pool per layer, shared by up to
// maxSeqs sequences; pages are handed out on reserve() and returned on release()/truncate(),
// the same physical page index in every layer, so one page table per sequence serves all layers.
// GQA keeps K and V rows of nHeadKv * headDim; MLA keeps one latent row (kv_lora_rank + rope
// dims) and no V.
//
//   sequence: empty --reserve(n)--> pages for [0, n) --truncate(m)--> pages for [0, m) --release--> empty
#pragma once

#include "backends/backend.h"
#include "models/kv-view.h"
#include "moe/status.h"

#include <cstdint>
#include <vector>

namespace moe {

class KvCache final : public KvView {
public:
    static constexpr int kDefaultPageSize = 64;

    // Allocates, on backend, nLayer pools of ceil(nTokens / pageSize) pages (rows of kDim + vDim
    // floats) for sequences 0 .. maxSeqs-1, each at most maxSeqLen positions (0: nTokens); fails
    // with OutOfMemory rather than throwing. The backend outlives the cache.
    Status init(ComputeBackend& backend, int nLayer, int nTokens, int kDim, int vDim, int maxSeqs = 1,
                int maxSeqLen = 0, int pageSize = kDefaultPageSize);

    int pageSize() const override { return m_pageSize; }
    int capacity() const override { return m_maxSeqLen; }
    float* layerK(int il) override { return m_k.as<float>() + size_t(il) * m_layerRows * size_t(m_kDim); }
    float* layerV(int il) override {
        return m_vDim == 0 ? nullptr : m_v.as<float>() + size_t(il) * m_layerRows * size_t(m_vDim);
    }
    const int32_t* pageTable(int seq) const override { return m_tables[size_t(seq)].data(); }
    Status reserve(int seq, int nPositions) override;
    // Keeps positions [0, nPositions) of seq, returning the pages past them to the pool.
    void truncate(int seq, int nPositions);
    void release(int seq) { truncate(seq, 0); }

    int maxSeqs() const { return int(m_tables.size()); }
    int freePages() const { return int(m_free.size()); }
    uint64_t bytes() const { return m_k.bytes() + m_v.bytes(); }
    int kDim() const { return m_kDim; }
    int vDim() const { return m_vDim; }
    int nLayer() const { return m_nLayer; }

private:
    int m_nLayer = 0;
    int m_kDim = 0;
    int m_vDim = 0;
    int m_pageSize = kDefaultPageSize;
    int m_maxSeqLen = 0;
    size_t m_layerRows = 0; // pages * pageSize
    BackendMemory m_k, m_v;
    std::vector<std::vector<int32_t>> m_tables; // per sequence: logical page -> physical page
    std::vector<int32_t> m_free;               // free physical pages (a stack)
};

} // namespace moe
