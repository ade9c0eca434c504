// Backend memory of the Vulkan op table, and the host-visible staging that feeds it.
//
// Address scheme. The op table (backends/backend.h) passes raw pointers in the backend's address
// space, including pointers offset into an allocation (q + h * dq, a weight's rowsView). Vulkan
// has no such pointers, so DeviceHeap hands out fake addresses: memory comes in chunks (a
// VkBuffer + VkDeviceMemory each, kChunkBytes, or one dedicated chunk for a larger allocation),
// chunk i owns the address range [(i + 1) << kAddressShift, (i + 2) << kAddressShift), and an
// allocation at byte offset o of chunk i is the address ((i + 1) << kAddressShift) + o. resolve()
// turns any address inside an allocation back into (VkBuffer, byte offset) in O(1); the kernels
// bind whole chunks and take element offsets in push constants. Addresses are never dereferenced
// on the host. Chunk ids are not reused, so a stale address fails to resolve instead of aliasing.
//
// Sub-allocation: first fit over a free list per chunk (offsets aligned to kAlignment), freed
// ranges coalesce. Reusing a range while recorded commands still read the old contents is safe:
// the stream executes in order with a barrier between commands. Destroying a chunk is not, so
// dedicated chunks die in collect(), called after a submission completed.
#pragma once

#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace moe::vulkan {

class Context;

struct BufferRef {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0; // bytes from the chunk's start
    VkDeviceSize size = 0;   // the chunk's bytes
};

class DeviceHeap {
public:
    static constexpr int kAddressShift = 40;
    static constexpr VkDeviceSize kChunkBytes = VkDeviceSize(64) << 20;
    static constexpr VkDeviceSize kAlignment = 256;

    explicit DeviceHeap(Context& ctx) : m_ctx(ctx) {}
    ~DeviceHeap();
    DeviceHeap(const DeviceHeap&) = delete;
    DeviceHeap& operator=(const DeviceHeap&) = delete;

    // A fake address of `bytes` (>= 1) bytes of device memory. OutOfMemory when the device has no
    // room or the size exceeds the device's storage-buffer range.
    Result<void*> allocate(size_t bytes);
    // Returns the allocation starting at `address` to its chunk (unknown addresses are ignored).
    void release(void* address);
    // The chunk and offset of any address inside a live chunk; false otherwise.
    bool resolve(const void* address, BufferRef& out) const;
    // Destroys the dedicated chunks released since the last call; call when no submission that
    // could use them is pending.
    void collect();

private:
    struct Chunk {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkDeviceSize size = 0;
        bool dedicated = false;
        std::map<VkDeviceSize, VkDeviceSize> freeRanges; // offset -> bytes
        std::map<VkDeviceSize, VkDeviceSize> used;       // offset -> bytes
    };
    Result<size_t> createChunk(VkDeviceSize bytes, bool dedicated);
    void destroyChunk(Chunk& chunk);

    Context& m_ctx;
    std::vector<std::unique_ptr<Chunk>> m_chunks; // index = chunk id; null once destroyed
    std::vector<size_t> m_dying; // dedicated chunks released, destroyed in collect()
};

// Host-visible, host-coherent buffers handed out linearly for one submission's uploads and
// downloads; reset() after the submission completed makes them reusable.
class StagingArena {
public:
    static constexpr VkDeviceSize kBlockBytes = VkDeviceSize(16) << 20;

    struct Slice {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceSize offset = 0;
        void* host = nullptr;
    };

    explicit StagingArena(Context& ctx) : m_ctx(ctx) {}
    ~StagingArena();
    StagingArena(const StagingArena&) = delete;
    StagingArena& operator=(const StagingArena&) = delete;

    Result<Slice> take(VkDeviceSize bytes);
    VkDeviceSize inUse() const { return m_inUse; }
    void reset();

private:
    struct Block {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        void* host = nullptr;
        VkDeviceSize size = 0;
        VkDeviceSize used = 0;
    };
    Context& m_ctx;
    std::vector<Block> m_blocks;
    VkDeviceSize m_inUse = 0;
};

// A buffer bound to fresh memory of a type with `wanted` properties (falling back to any type
// the buffer allows when `wanted` is only a preference). Shared by the heap and the arena.
Status createBoundBuffer(Context& ctx, VkDeviceSize bytes, VkMemoryPropertyFlags wanted,
                         bool required, VkBuffer& buffer, VkDeviceMemory& memory);

} // namespace moe::vulkan
