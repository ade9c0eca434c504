// CachingAllocator: device memory for a CUDA backend's buffers without a cudaMalloc/cudaFree per
// request. Freed blocks go to a free list by size and are handed out again; cudaFree (which
// synchronizes the device) only happens on trim() and destruction. Safe with one stream: a block
// freed while queued kernels still use it is reused only by work queued after them.
// Sizes are rounded up (512 B granules to 1 MiB, then steps of 1/8 of the power of two) and a free
// block at most twice the request is reused. Thread-safe.
#pragma once

#include "moe/status.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace moe::cuda {

class CachingAllocator {
public:
    CachingAllocator() = default;
    CachingAllocator(const CachingAllocator&) = delete;
    CachingAllocator& operator=(const CachingAllocator&) = delete;
    ~CachingAllocator(); // frees every block, cached or live (the device must be current)

    // A block of at least bytes; on cudaMalloc failure the cache is freed and the call retried once
    // before OutOfMemory is returned.
    Result<void*> allocate(size_t bytes);
    void release(void* ptr); // ptr from allocate(); unknown pointers are ignored
    void trim();             // cudaFree every cached block
    size_t bytesInUse() const;
    size_t bytesCached() const;

private:
    static size_t roundUp(size_t bytes);
    void trimLocked();

    mutable std::mutex m_mutex;
    std::unordered_map<void*, size_t> m_live;
    std::multimap<size_t, void*> m_free;
    size_t m_inUse = 0, m_cached = 0;
};

} // namespace moe::cuda
