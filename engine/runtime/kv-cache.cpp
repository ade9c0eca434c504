// KvCache allocation and page bookkeeping.
#include "runtime/kv-cache.h"

#include <algorithm>

namespace moe {

Status KvCache::init(ComputeBackend& backend, int nLayer, int nTokens, int kDim, int vDim, int maxSeqs, int maxSeqLen,
                     int pageSize) {
    if (nLayer <= 0 || nTokens <= 0 || kDim <= 0 || vDim < 0 || maxSeqs <= 0 || pageSize <= 0)
        return Status(StatusCode::InvalidArgument, "KV cache: invalid geometry");
    m_nLayer = nLayer;
    m_kDim = kDim;
    m_vDim = vDim;
    m_pageSize = pageSize;
    m_maxSeqLen = maxSeqLen > 0 ? std::min(maxSeqLen, nTokens) : nTokens;
    const int pages = (nTokens + pageSize - 1) / pageSize;
    m_layerRows = size_t(pages) * size_t(pageSize);
    const size_t kBytes = size_t(nLayer) * m_layerRows * size_t(kDim) * sizeof(float);
    const size_t vBytes = size_t(nLayer) * m_layerRows * size_t(vDim) * sizeof(float);
    auto k = backend.allocate(kBytes);
    auto v = vDim > 0 ? backend.allocate(vBytes) : Result<BackendMemory>(BackendMemory());
    if (!k.isOk() || !v.isOk())
        return Status(StatusCode::OutOfMemory,
                      "KV cache: cannot allocate " + std::to_string(kBytes + vBytes) + " bytes on " + backend.name() +
                          " for " + std::to_string(nTokens) + " tokens x " + std::to_string(nLayer) +
                          " layers (lower the context size)");
    m_k = std::move(k).value();
    m_v = std::move(v).value();
    m_tables.assign(size_t(maxSeqs), {});
    m_free.clear();
    for (int p = pages - 1; p >= 0; --p) m_free.push_back(p); // page 0 handed out first
    return Status::ok();
}

Status KvCache::reserve(int seq, int nPositions) {
    if (seq < 0 || seq >= maxSeqs()) return Status(StatusCode::InvalidArgument, "KV cache: no sequence " + std::to_string(seq));
    if (nPositions > m_maxSeqLen)
        return Status(StatusCode::InvalidArgument, "context full: " + std::to_string(nPositions) +
                                                       " positions exceed the context size " +
                                                       std::to_string(m_maxSeqLen));
    std::vector<int32_t>& table = m_tables[size_t(seq)];
    const size_t need = size_t((nPositions + m_pageSize - 1) / m_pageSize);
    if (need > table.size() && need - table.size() > m_free.size())
        return Status(StatusCode::OutOfMemory, "KV cache full: sequence " + std::to_string(seq) + " needs " +
                                                   std::to_string(need - table.size()) + " more pages, " +
                                                   std::to_string(m_free.size()) + " are free");
    while (table.size() < need) {
        table.push_back(m_free.back());
        m_free.pop_back();
    }
    return Status::ok();
}

void KvCache::truncate(int seq, int nPositions) {
    if (seq < 0 || seq >= maxSeqs()) return;
    std::vector<int32_t>& table = m_tables[size_t(seq)];
    const size_t keep = size_t((std::max(nPositions, 0) + m_pageSize - 1) / m_pageSize);
    while (table.size() > keep) {
        m_free.push_back(table.back());
        table.pop_back();
    }
}

} // namespace moe
