// Context: one Vulkan device ready for compute: instance, chosen physical device, logical
// device, one compute queue and a command pool, plus the compute pipelines built on it (cached
// by name). Objects created from a Context (Buffer, ComputePipeline) must die before it.
// Thread: a Context is used from one thread at a time; it holds no locks.
#pragma once

#include "backends/vulkan/vulkan-instance.h"
#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace moe::vulkan {

class ComputePipeline;

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
    const VkPhysicalDeviceProperties& properties() const { return m_properties; }
    const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return m_memory; }

    // Records commands through `record` into a fresh primary command buffer, submits it to the
    // compute queue and blocks until a fence signals (or a 60 s timeout, reported as an error).
    Status submitAndWait(const std::function<void(VkCommandBuffer)>& record);

    // The pipeline called `name`, built from `spirv` on first use with `nBuffers` storage
    // buffers at bindings 0..nBuffers-1 of set 0 and `pushBytes` of push constants. Later calls
    // with the same name return the cached pipeline (the other arguments are then ignored).
    // The pointer stays valid for the Context's lifetime.
    Result<ComputePipeline*> pipeline(const std::string& name, std::span<const uint32_t> spirv,
                                      uint32_t nBuffers, uint32_t pushBytes);

private:
    Context() = default;

    std::unique_ptr<Instance> m_instance;
    VkPhysicalDevice m_physical = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties m_properties{};
    VkPhysicalDeviceMemoryProperties m_memory{};
    VkDevice m_device = VK_NULL_HANDLE;
    uint32_t m_queueFamily = 0;
    VkQueue m_queue = VK_NULL_HANDLE;
    VkCommandPool m_commandPool = VK_NULL_HANDLE;
    VkFence m_fence = VK_NULL_HANDLE;
    std::map<std::string, std::unique_ptr<ComputePipeline>> m_pipelines;
};

} // namespace moe::vulkan
