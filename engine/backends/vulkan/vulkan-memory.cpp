// DeviceHeap (fake addresses over sub-allocated chunks) and StagingArena; see vulkan-memory.h.
#include "backends/vulkan/vulkan-memory.h"

#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-context.h"

#include <algorithm>
#include <string>

namespace moe::vulkan {

Status createBoundBuffer(Context& ctx, VkDeviceSize bytes, VkMemoryPropertyFlags wanted,
                         bool required, VkBuffer& buffer, VkDeviceMemory& memory) {
    const VkBufferCreateInfo info{
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .queueFamilyIndexCount = 0,
        .pQueueFamilyIndices = nullptr,
    };
    MOE_VK_CHECK(vkCreateBuffer(ctx.device(), &info, nullptr, &buffer));
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(ctx.device(), buffer, &req);
    const VkPhysicalDeviceMemoryProperties& mem = ctx.memoryProperties();
    uint32_t typeIndex = UINT32_MAX;
    for (uint32_t t = 0; t < mem.memoryTypeCount && typeIndex == UINT32_MAX; ++t)
        if ((req.memoryTypeBits & (1u << t)) &&
            (mem.memoryTypes[t].propertyFlags & wanted) == wanted)
            typeIndex = t;
    for (uint32_t t = 0; t < mem.memoryTypeCount && typeIndex == UINT32_MAX && !required; ++t)
        if (req.memoryTypeBits & (1u << t)) typeIndex = t;
    if (typeIndex == UINT32_MAX) {
        vkDestroyBuffer(ctx.device(), buffer, nullptr);
        buffer = VK_NULL_HANDLE;
        return Status(StatusCode::NotFound, "vulkan: no memory type with properties " +
                                                std::to_string(wanted) + " for a storage buffer");
    }
    const VkMemoryAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = nullptr,
        .allocationSize = req.size,
        .memoryTypeIndex = typeIndex,
    };
    const VkResult r = vkAllocateMemory(ctx.device(), &allocInfo, nullptr, &memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(ctx.device(), buffer, nullptr);
        buffer = VK_NULL_HANDLE;
        return vkStatus(r, "vkAllocateMemory", __FILE__, __LINE__);
    }
    MOE_VK_CHECK(vkBindBufferMemory(ctx.device(), buffer, memory, 0));
    return Status::ok();
}

DeviceHeap::~DeviceHeap() {
    for (auto& c : m_chunks)
        if (c) destroyChunk(*c);
}

void DeviceHeap::destroyChunk(Chunk& c) {
    if (c.buffer) vkDestroyBuffer(m_ctx.device(), c.buffer, nullptr);
    if (c.memory) vkFreeMemory(m_ctx.device(), c.memory, nullptr);
    c.buffer = VK_NULL_HANDLE;
    c.memory = VK_NULL_HANDLE;
}

Result<size_t> DeviceHeap::createChunk(VkDeviceSize bytes, bool dedicated) {
    auto chunk = std::make_unique<Chunk>();
    MOE_TRY(createBoundBuffer(m_ctx, bytes, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, false,
                              chunk->buffer, chunk->memory));
    chunk->size = bytes;
    chunk->dedicated = dedicated;
    chunk->freeRanges[0] = bytes;
    m_chunks.push_back(std::move(chunk));
    return m_chunks.size() - 1;
}

Result<void*> DeviceHeap::allocate(size_t requested) {
    const VkDeviceSize bytes =
        (std::max<VkDeviceSize>(requested, 1) + kAlignment - 1) / kAlignment * kAlignment;
    const Capabilities& caps = m_ctx.caps();
    if (bytes > caps.maxStorageBufferRange || bytes > caps.maxAllocationBytes ||
        bytes >= (VkDeviceSize(1) << kAddressShift))
        return Status(StatusCode::OutOfMemory,
                      "vulkan: an allocation of " + std::to_string(requested) +
                          " bytes exceeds the device's storage-buffer range (" +
                          std::to_string(caps.maxStorageBufferRange) + " bytes)");
    size_t id = m_chunks.size();
    VkDeviceSize offset = 0;
    for (size_t i = 0; i < m_chunks.size() && id == m_chunks.size(); ++i) {
        Chunk* c = m_chunks[i].get();
        if (!c || c->dedicated) continue;
        for (auto it = c->freeRanges.begin(); it != c->freeRanges.end(); ++it) {
            if (it->second < bytes) continue;
            id = i;
            offset = it->first;
            const VkDeviceSize rest = it->second - bytes;
            c->freeRanges.erase(it);
            if (rest > 0) c->freeRanges[offset + bytes] = rest;
            break;
        }
    }
    if (id == m_chunks.size()) {
        const VkDeviceSize chunkBytes = std::min<VkDeviceSize>(
            kChunkBytes, std::min(caps.maxStorageBufferRange, caps.maxAllocationBytes) /
                             kAlignment * kAlignment);
        const bool dedicated = bytes > chunkBytes;
        MOE_ASSIGN_OR_RETURN(id, createChunk(dedicated ? bytes : chunkBytes, dedicated));
        Chunk& c = *m_chunks[id];
        c.freeRanges.clear();
        if (c.size > bytes) c.freeRanges[bytes] = c.size - bytes;
        offset = 0;
    }
    m_chunks[id]->used[offset] = bytes;
    const uint64_t address = (uint64_t(id + 1) << kAddressShift) + offset;
    return reinterpret_cast<void*>(address);
}

void DeviceHeap::release(void* address) {
    const uint64_t a = reinterpret_cast<uint64_t>(address);
    const uint64_t id = (a >> kAddressShift) - 1;
    if ((a >> kAddressShift) == 0 || id >= m_chunks.size() || !m_chunks[id]) return;
    Chunk& c = *m_chunks[id];
    const VkDeviceSize offset = a & ((uint64_t(1) << kAddressShift) - 1);
    auto it = c.used.find(offset);
    if (it == c.used.end()) return;
    VkDeviceSize start = offset, bytes = it->second;
    c.used.erase(it);
    if (c.dedicated) {
        m_dying.push_back(size_t(id));
        return;
    }
    // Coalesce with the free neighbours.
    auto next = c.freeRanges.lower_bound(start);
    if (next != c.freeRanges.end() && next->first == start + bytes) {
        bytes += next->second;
        next = c.freeRanges.erase(next);
    }
    if (next != c.freeRanges.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == start) {
            start = prev->first;
            bytes += prev->second;
            c.freeRanges.erase(prev);
        }
    }
    c.freeRanges[start] = bytes;
}

bool DeviceHeap::resolve(const void* address, BufferRef& out) const {
    const uint64_t a = reinterpret_cast<uint64_t>(address);
    if ((a >> kAddressShift) == 0) return false;
    const uint64_t id = (a >> kAddressShift) - 1;
    if (id >= m_chunks.size() || !m_chunks[id] || !m_chunks[id]->buffer) return false;
    out.buffer = m_chunks[id]->buffer;
    out.offset = a & ((uint64_t(1) << kAddressShift) - 1);
    out.size = m_chunks[id]->size;
    return out.offset < out.size;
}

void DeviceHeap::collect() {
    for (size_t id : m_dying) {
        if (m_chunks[id]) destroyChunk(*m_chunks[id]);
        m_chunks[id].reset();
    }
    m_dying.clear();
}

StagingArena::~StagingArena() {
    for (Block& b : m_blocks) {
        if (b.host) vkUnmapMemory(m_ctx.device(), b.memory);
        if (b.buffer) vkDestroyBuffer(m_ctx.device(), b.buffer, nullptr);
        if (b.memory) vkFreeMemory(m_ctx.device(), b.memory, nullptr);
    }
}

Result<StagingArena::Slice> StagingArena::take(VkDeviceSize requested) {
    const VkDeviceSize bytes = (std::max<VkDeviceSize>(requested, 1) + 15) / 16 * 16;
    for (Block& b : m_blocks) {
        if (b.size - b.used < bytes) continue;
        Slice s{b.buffer, b.used, static_cast<char*>(b.host) + b.used};
        b.used += bytes;
        m_inUse += bytes;
        return s;
    }
    Block b;
    b.size = std::max(bytes, kBlockBytes);
    MOE_TRY(createBoundBuffer(
        m_ctx, b.size, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
        true, b.buffer, b.memory));
    const VkResult r = vkMapMemory(m_ctx.device(), b.memory, 0, VK_WHOLE_SIZE, 0, &b.host);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(m_ctx.device(), b.buffer, nullptr);
        vkFreeMemory(m_ctx.device(), b.memory, nullptr);
        return vkStatus(r, "vkMapMemory", __FILE__, __LINE__);
    }
    b.used = bytes;
    m_inUse += bytes;
    m_blocks.push_back(b);
    return Slice{b.buffer, 0, b.host};
}

void StagingArena::reset() {
    for (Block& b : m_blocks)
        b.used = 0;
    m_inUse = 0;
}

} // namespace moe::vulkan
