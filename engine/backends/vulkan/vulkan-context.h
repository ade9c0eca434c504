// Context: one Vulkan device ready for compute: instance, chosen physical device and its
// capabilities, logical device (64-bit shader types enabled when offered), one compute queue, a
// command pool and a fence. Objects created from a Context must die before it.
// Thread: a Context is used from one thread at a time; it holds no locks.
#pragma once

#include "backends/vulkan/vulkan-caps.h"
#include "backends/vulkan/vulkan-instance.h"
#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <memory>

namespace moe::vulkan {

class Context {
public:
    // Opens physical device `deviceIndex` (the index queryVulkan reports) with the first queue
    // family that supports compute. Failure: NotFound for a bad index or no compute queue;
    // DeviceError naming the Vulkan call otherwise.
    static Result<std::unique_ptr<Context>> create(int deviceIndex = 0);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    VkDevice device() const { return m_device; }
    VkPhysicalDevice physicalDevice() const { return m_physical; }
    VkQueue queue() const { return m_queue; }
    VkCommandPool commandPool() const { return m_commandPool; }
    VkFence fence() const { return m_fence; }
    const VkPhysicalDeviceProperties& properties() const { return m_properties; }
    const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return m_memory; }
    const Capabilities& caps() const { return m_caps; }

private:
    Context() = default;

    std::unique_ptr<Instance> m_instance;
    VkPhysicalDevice m_physical = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties m_properties{};
    VkPhysicalDeviceMemoryProperties m_memory{};
    Capabilities m_caps;
    VkDevice m_device = VK_NULL_HANDLE;
    uint32_t m_queueFamily = 0;
    VkQueue m_queue = VK_NULL_HANDLE;
    VkCommandPool m_commandPool = VK_NULL_HANDLE;
    VkFence m_fence = VK_NULL_HANDLE;
};

} // namespace moe::vulkan
