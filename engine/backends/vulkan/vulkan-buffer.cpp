// Buffer: allocation in the first host-visible + host-coherent memory type the buffer allows,
// mapped once for its lifetime.
#include "backends/vulkan/vulkan-buffer.h"

#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-context.h"

#include <cstring>
#include <string>
#include <utility>

namespace moe::vulkan {

Result<Buffer> Buffer::create(Context& ctx, VkDeviceSize bytes) {
    if (bytes == 0) return Status(StatusCode::InvalidArgument, "vulkan buffer: size 0");
    Buffer buf;
    buf.m_device = ctx.device();
    buf.m_bytes = bytes;
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
    MOE_VK_CHECK(vkCreateBuffer(buf.m_device, &info, nullptr, &buf.m_buffer));

    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(buf.m_device, buf.m_buffer, &req);
    const VkMemoryPropertyFlags wanted =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkPhysicalDeviceMemoryProperties& mem = ctx.memoryProperties();
    uint32_t typeIndex = UINT32_MAX;
    for (uint32_t t = 0; t < mem.memoryTypeCount && typeIndex == UINT32_MAX; ++t) {
        if ((req.memoryTypeBits & (1u << t)) &&
            (mem.memoryTypes[t].propertyFlags & wanted) == wanted)
            typeIndex = t;
    }
    if (typeIndex == UINT32_MAX)
        return Status(StatusCode::NotFound,
                      "vulkan buffer: no host-visible coherent memory type for a storage buffer");

    const VkMemoryAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = nullptr,
        .allocationSize = req.size,
        .memoryTypeIndex = typeIndex,
    };
    MOE_VK_CHECK(vkAllocateMemory(buf.m_device, &allocInfo, nullptr, &buf.m_memory));
    MOE_VK_CHECK(vkBindBufferMemory(buf.m_device, buf.m_buffer, buf.m_memory, 0));
    MOE_VK_CHECK(vkMapMemory(buf.m_device, buf.m_memory, 0, VK_WHOLE_SIZE, 0, &buf.m_mapped));
    return buf;
}

Buffer::~Buffer() {
    release();
}

Buffer::Buffer(Buffer&& other) noexcept {
    *this = std::move(other);
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        m_device = std::exchange(other.m_device, VK_NULL_HANDLE);
        m_buffer = std::exchange(other.m_buffer, VK_NULL_HANDLE);
        m_memory = std::exchange(other.m_memory, VK_NULL_HANDLE);
        m_mapped = std::exchange(other.m_mapped, nullptr);
        m_bytes = std::exchange(other.m_bytes, 0);
    }
    return *this;
}

void Buffer::release() {
    if (!m_device) return;
    if (m_mapped) vkUnmapMemory(m_device, m_memory);
    if (m_buffer) vkDestroyBuffer(m_device, m_buffer, nullptr);
    if (m_memory) vkFreeMemory(m_device, m_memory, nullptr);
    m_device = VK_NULL_HANDLE;
    m_buffer = VK_NULL_HANDLE;
    m_memory = VK_NULL_HANDLE;
    m_mapped = nullptr;
    m_bytes = 0;
}

Status Buffer::upload(std::span<const std::byte> bytes) {
    if (bytes.size() > m_bytes)
        return Status(StatusCode::InvalidArgument,
                      "vulkan buffer upload: " + std::to_string(bytes.size()) +
                          " bytes into a buffer of " + std::to_string(m_bytes));
    if (!bytes.empty()) std::memcpy(m_mapped, bytes.data(), bytes.size());
    return Status::ok();
}

Status Buffer::download(std::span<std::byte> bytes) const {
    if (bytes.size() > m_bytes)
        return Status(StatusCode::InvalidArgument,
                      "vulkan buffer download: " + std::to_string(bytes.size()) +
                          " bytes from a buffer of " + std::to_string(m_bytes));
    if (!bytes.empty()) std::memcpy(bytes.data(), m_mapped, bytes.size());
    return Status::ok();
}

} // namespace moe::vulkan
