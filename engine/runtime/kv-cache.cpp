// KvCache allocation.
#include "runtime/kv-cache.h"

#include <new>

namespace moe {

Status KvCache::init(int nLayer, int nCtx, int kDim, int vDim) {
    m_nLayer = nLayer;
    m_nCtx = nCtx;
    m_kDim = kDim;
    m_vDim = vDim;
    const size_t perToken = size_t(kDim) + size_t(vDim);
    try {
        m_k.assign(size_t(nLayer) * size_t(nCtx) * size_t(kDim), 0.0f);
        m_v.assign(size_t(nLayer) * size_t(nCtx) * size_t(vDim), 0.0f);
    } catch (const std::bad_alloc&) {
        m_k.clear();
        m_v.clear();
        return Status(StatusCode::OutOfMemory,
                      "KV cache: cannot allocate " + std::to_string(size_t(nLayer) * size_t(nCtx) * perToken * sizeof(float)) +
                          " bytes for " + std::to_string(nCtx) + " tokens x " + std::to_string(nLayer) +
                          " layers (lower the context size)");
    }
    return Status::ok();
}

} // namespace moe
