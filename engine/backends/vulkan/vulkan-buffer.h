// Buffer: RAII storage buffer in host-visible, host-coherent memory, persistently mapped.
// v0 keeps every buffer host-visible (correct everywhere, fast on lavapipe and integrated GPUs);
// device-local buffers with staging copies come with the op table. Must die before its Context.
#pragma once

#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <cstddef>
#include <span>

namespace moe::vulkan {

class Context;

class Buffer {
public:
    Buffer() = default;
    // Allocates `bytes` (> 0) of storage-buffer memory and maps it. Failure: OutOfMemory or
    // DeviceError naming the call; NotFound when the device has no host-visible coherent memory.
    static Result<Buffer> create(Context& ctx, VkDeviceSize bytes);
    ~Buffer();
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    VkBuffer handle() const { return m_buffer; }
    VkDeviceSize size() const { return m_bytes; }
    // Copies to or from the mapped memory; InvalidArgument when `bytes` exceeds size().
    // Call only while no submission that uses this buffer is in flight.
    Status upload(std::span<const std::byte> bytes);
    Status download(std::span<std::byte> bytes) const;

private:
    void release();

    VkDevice m_device = VK_NULL_HANDLE;
    VkBuffer m_buffer = VK_NULL_HANDLE;
    VkDeviceMemory m_memory = VK_NULL_HANDLE;
    void* m_mapped = nullptr;
    VkDeviceSize m_bytes = 0;
};

} // namespace moe::vulkan
