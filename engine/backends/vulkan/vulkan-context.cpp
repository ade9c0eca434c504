// Context: device, queue, command pool and fence setup; one-shot submission; pipeline cache.
// v0 submits one command buffer per op and waits: simple and correct, not fast. Batching many
// ops into one submission is the op table's job later.
#include "backends/vulkan/vulkan-context.h"

#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-pipeline.h"

#include <string>
#include <vector>

namespace moe::vulkan {
namespace {

constexpr uint64_t kFenceTimeoutNs = 60ull * 1000 * 1000 * 1000;

// Frees a command buffer when the submission scope ends, whatever path it takes.
struct CommandBufferGuard {
    VkDevice device;
    VkCommandPool pool;
    VkCommandBuffer buffer = VK_NULL_HANDLE;
    ~CommandBufferGuard() {
        if (buffer) vkFreeCommandBuffers(device, pool, 1, &buffer);
    }
};

} // namespace

Result<std::unique_ptr<Context>> Context::create(int deviceIndex) {
    std::unique_ptr<Context> ctx(new Context());
    MOE_ASSIGN_OR_RETURN(ctx->m_instance, Instance::create());
    MOE_ASSIGN_OR_RETURN(std::vector<VkPhysicalDevice> physical,
                         ctx->m_instance->physicalDevices());
    if (deviceIndex < 0 || size_t(deviceIndex) >= physical.size())
        return Status(StatusCode::NotFound, "vulkan: device index " + std::to_string(deviceIndex) +
                                                " is out of range (" +
                                                std::to_string(physical.size()) + " devices)");
    ctx->m_physical = physical[size_t(deviceIndex)];
    vkGetPhysicalDeviceProperties(ctx->m_physical, &ctx->m_properties);
    vkGetPhysicalDeviceMemoryProperties(ctx->m_physical, &ctx->m_memory);

    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &familyCount, families.data());
    bool found = false;
    for (uint32_t f = 0; f < familyCount && !found; ++f) {
        if (families[f].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            ctx->m_queueFamily = f;
            found = true;
        }
    }
    if (!found)
        return Status(StatusCode::NotFound, std::string("vulkan: device '") +
                                                ctx->m_properties.deviceName +
                                                "' has no compute queue family");

    const float priority = 1.0f;
    const VkDeviceQueueCreateInfo queueInfo{
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .queueFamilyIndex = ctx->m_queueFamily,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    const VkDeviceCreateInfo deviceInfo{
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queueInfo,
        .enabledLayerCount = 0,
        .ppEnabledLayerNames = nullptr,
        .enabledExtensionCount = 0,
        .ppEnabledExtensionNames = nullptr,
        .pEnabledFeatures = nullptr,
    };
    MOE_VK_CHECK(vkCreateDevice(ctx->m_physical, &deviceInfo, nullptr, &ctx->m_device));
    vkGetDeviceQueue(ctx->m_device, ctx->m_queueFamily, 0, &ctx->m_queue);

    const VkCommandPoolCreateInfo poolInfo{
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .pNext = nullptr,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = ctx->m_queueFamily,
    };
    MOE_VK_CHECK(vkCreateCommandPool(ctx->m_device, &poolInfo, nullptr, &ctx->m_commandPool));
    const VkFenceCreateInfo fenceInfo{
        .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .pNext = nullptr, .flags = 0};
    MOE_VK_CHECK(vkCreateFence(ctx->m_device, &fenceInfo, nullptr, &ctx->m_fence));
    return ctx;
}

Context::~Context() {
    if (m_device) {
        (void)vkDeviceWaitIdle(m_device); // nothing may be in flight while objects die
        m_pipelines.clear();
        if (m_fence) vkDestroyFence(m_device, m_fence, nullptr);
        if (m_commandPool) vkDestroyCommandPool(m_device, m_commandPool, nullptr);
        vkDestroyDevice(m_device, nullptr);
    }
}

Status Context::submitAndWait(const std::function<void(VkCommandBuffer)>& record) {
    CommandBufferGuard guard{.device = m_device, .pool = m_commandPool};
    const VkCommandBufferAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .pNext = nullptr,
        .commandPool = m_commandPool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    MOE_VK_CHECK(vkAllocateCommandBuffers(m_device, &allocInfo, &guard.buffer));
    const VkCommandBufferBeginInfo beginInfo{
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .pNext = nullptr,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
        .pInheritanceInfo = nullptr,
    };
    MOE_VK_CHECK(vkBeginCommandBuffer(guard.buffer, &beginInfo));
    record(guard.buffer);
    MOE_VK_CHECK(vkEndCommandBuffer(guard.buffer));

    const VkSubmitInfo submit{
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = nullptr,
        .waitSemaphoreCount = 0,
        .pWaitSemaphores = nullptr,
        .pWaitDstStageMask = nullptr,
        .commandBufferCount = 1,
        .pCommandBuffers = &guard.buffer,
        .signalSemaphoreCount = 0,
        .pSignalSemaphores = nullptr,
    };
    MOE_VK_CHECK(vkResetFences(m_device, 1, &m_fence));
    MOE_VK_CHECK(vkQueueSubmit(m_queue, 1, &submit, m_fence));
    const VkResult waited = vkWaitForFences(m_device, 1, &m_fence, VK_TRUE, kFenceTimeoutNs);
    if (waited == VK_TIMEOUT) {
        // The buffer may still execute: wait for the queue before the guard frees it.
        MOE_VK_CHECK(vkQueueWaitIdle(m_queue));
        return Status(StatusCode::DeviceError,
                      "vulkan: vkWaitForFences: the submission did not finish within 60 s");
    }
    MOE_VK_CHECK(waited);
    return Status::ok();
}

Result<ComputePipeline*> Context::pipeline(const std::string& name, std::span<const uint32_t> spirv,
                                           uint32_t nBuffers, uint32_t pushBytes) {
    if (auto it = m_pipelines.find(name); it != m_pipelines.end()) return it->second.get();
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<ComputePipeline> created,
                         ComputePipeline::create(m_device, name, spirv, nBuffers, pushBytes));
    ComputePipeline* raw = created.get();
    m_pipelines.emplace(name, std::move(created));
    return raw;
}

} // namespace moe::vulkan
