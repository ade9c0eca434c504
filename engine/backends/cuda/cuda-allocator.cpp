// CachingAllocator: free lists of device blocks keyed by rounded size (see cuda-allocator.h).
#include "backends/cuda/cuda-allocator.h"

#include "backends/cuda/cuda-check.h"

#include <algorithm>
#include <bit>
#include <string>

namespace moe::cuda {

CachingAllocator::~CachingAllocator() {
    trimLocked();
    for (auto& [ptr, bytes] : m_live) (void)cudaFree(ptr); // outliving blocks: nobody to report to
}

size_t CachingAllocator::roundUp(size_t bytes) {
    constexpr size_t kGranule = 512, kSmall = size_t(1) << 20;
    bytes = std::max<size_t>(bytes, 1);
    if (bytes <= kSmall) return (bytes + kGranule - 1) / kGranule * kGranule;
    const size_t step = std::bit_floor(bytes) / 8;
    return (bytes + step - 1) / step * step;
}

Result<void*> CachingAllocator::allocate(size_t bytes) {
    const size_t size = roundUp(bytes);
    std::lock_guard lock(m_mutex);
    auto it = m_free.lower_bound(size);
    if (it != m_free.end() && it->first <= 2 * size) {
        void* p = it->second;
        const size_t got = it->first;
        m_free.erase(it);
        m_cached -= got;
        m_live.emplace(p, got);
        m_inUse += got;
        return p;
    }
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation && !m_free.empty()) {
        (void)cudaGetLastError();
        trimLocked();
        err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess)
        return cudaStatus(err, ("cudaMalloc(" + std::to_string(size) + " bytes)").c_str(), __FILE__, __LINE__);
    m_live.emplace(p, size);
    m_inUse += size;
    return p;
}

void CachingAllocator::release(void* ptr) {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(ptr);
    if (it == m_live.end()) return;
    m_free.emplace(it->second, ptr);
    m_cached += it->second;
    m_inUse -= it->second;
    m_live.erase(it);
}

void CachingAllocator::trim() {
    std::lock_guard lock(m_mutex);
    trimLocked();
}

void CachingAllocator::trimLocked() {
    for (auto& [bytes, ptr] : m_free) (void)cudaFree(ptr);
    m_free.clear();
    m_cached = 0;
}

size_t CachingAllocator::bytesInUse() const {
    std::lock_guard lock(m_mutex);
    return m_inUse;
}

size_t CachingAllocator::bytesCached() const {
    std::lock_guard lock(m_mutex);
    return m_cached;
}

} // namespace moe::cuda
