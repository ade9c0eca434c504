// Instance creation and physical-device enumeration (see vulkan-instance.h).
#include "backends/vulkan/vulkan-instance.h"

#include "backends/vulkan/vulkan-check.h"

namespace moe::vulkan {

Result<std::unique_ptr<Instance>> Instance::create() {
    const VkApplicationInfo app{
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pNext = nullptr,
        .pApplicationName = "MoE Studio",
        .applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
        .pEngineName = "moe_engine",
        .engineVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
        .apiVersion = VK_API_VERSION_1_1,
    };
    const VkInstanceCreateInfo info{
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .pApplicationInfo = &app,
        .enabledLayerCount = 0,
        .ppEnabledLayerNames = nullptr,
        .enabledExtensionCount = 0,
        .ppEnabledExtensionNames = nullptr,
    };
    VkInstance instance = VK_NULL_HANDLE;
    MOE_VK_CHECK(vkCreateInstance(&info, nullptr, &instance));
    return std::unique_ptr<Instance>(new Instance(instance));
}

Instance::~Instance() {
    if (m_instance) vkDestroyInstance(m_instance, nullptr);
}

Result<std::vector<VkPhysicalDevice>> Instance::physicalDevices() const {
    uint32_t count = 0;
    MOE_VK_CHECK(vkEnumeratePhysicalDevices(m_instance, &count, nullptr));
    std::vector<VkPhysicalDevice> devices(count);
    if (count > 0) MOE_VK_CHECK(vkEnumeratePhysicalDevices(m_instance, &count, devices.data()));
    devices.resize(count);
    return devices;
}

} // namespace moe::vulkan
