// KvCache allocation.
#include "runtime/kv-cache.h"

#include <new>

namespace moe {

Status KvCache::init(int nLayer, int nCtx, int kvDim) {
    m_nLayer = nLayer;
    m_nCtx = nCtx;
    m_kvDim = kvDim;
    const size_t n = size_t(nLayer) * size_t(nCtx) * size_t(kvDim);
    try {
        m_k.assign(n, 0.0f);
        m_v.assign(n, 0.0f);
    } catch (const std::bad_alloc&) {
        m_k.clear();
        m_v.clear();
        return Status(StatusCode::OutOfMemory,
                      "KV cache: cannot allocate " + std::to_string(2 * n * sizeof(float)) +
                          " bytes for " + std::to_string(nCtx) + " tokens x " +
                          std::to_string(nLayer) + " layers (lower the context size)");
    }
    return Status::ok();
}

} // namespace moe
