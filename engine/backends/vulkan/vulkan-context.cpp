// Context: device, queue, command pool and fence setup. The device is created with the 64-bit
// shader types when it offers them (routing statistics accumulate in int64/double on the device).
#include "backends/vulkan/vulkan-context.h"

#include "backends/vulkan/vulkan-check.h"

#include <string>
#include <vector>

namespace moe::vulkan {

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
    ctx->m_caps = queryCapabilities(ctx->m_physical);
    VkPhysicalDeviceFeatures features{};
    features.shaderFloat64 = ctx->m_caps.fp64 ? VK_TRUE : VK_FALSE;
    features.shaderInt64 = ctx->m_caps.int64 ? VK_TRUE : VK_FALSE;
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
        .pEnabledFeatures = &features,
    };
    MOE_VK_CHECK(vkCreateDevice(ctx->m_physical, &deviceInfo, nullptr, &ctx->m_device));
    vkGetDeviceQueue(ctx->m_device, ctx->m_queueFamily, 0, &ctx->m_queue);

    const VkCommandPoolCreateInfo poolInfo{
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .pNext = nullptr,
        .flags =
            VK_COMMAND_POOL_CREATE_TRANSIENT_BIT | VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
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
        if (m_fence) vkDestroyFence(m_device, m_fence, nullptr);
        if (m_commandPool) vkDestroyCommandPool(m_device, m_commandPool, nullptr);
        vkDestroyDevice(m_device, nullptr);
    }
}

} // namespace moe::vulkan
