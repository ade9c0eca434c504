// queryVulkan(): the Vulkan physical devices the loader can see, with name, type, the largest
// device-local heap, API version and the capabilities the kernels care about (vulkan-caps.h: fp16,
// int8 dot, subgroup size and arithmetic, shared memory, 64-bit types) with the kernel path chosen.
// Built for machines without a GPU: a missing driver (no ICD) or any failing call becomes one
// `unavailable` line; nothing here aborts. lavapipe (Mesa's CPU device) counts as a device: it is
// what CI runs the Vulkan tests on.
#include "backends/backend.h"
#include "backends/vulkan/vulkan-caps.h"
#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-instance.h"

#include <algorithm>
#include <string>

namespace moe::backend {
namespace {

const char* deviceTypeName(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "CPU";
    default:
        return "other";
    }
}

std::string versionText(uint32_t version) {
    return std::to_string(VK_API_VERSION_MAJOR(version)) + "." +
           std::to_string(VK_API_VERSION_MINOR(version)) + "." +
           std::to_string(VK_API_VERSION_PATCH(version));
}

DeviceInfo describe(VkPhysicalDevice physical, int index) {
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(physical, &props);
    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(physical, &memory);
    uint64_t largestLocalHeap = 0;
    for (uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
        if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            largestLocalHeap = std::max<uint64_t>(largestLocalHeap, memory.memoryHeaps[h].size);
    }

    DeviceInfo info;
    info.backend = "vulkan";
    info.index = index;
    info.name = props.deviceName;
    info.memoryBytes = largestLocalHeap;
    info.detail =
        std::string(deviceTypeName(props.deviceType)) + ", Vulkan " + versionText(props.apiVersion);
    info.detail += "; " + vulkan::describeCapabilities(vulkan::queryCapabilities(physical));
    return info;
}

} // namespace

void queryVulkan(DeviceReport& report) {
    auto instance = vulkan::Instance::create();
    if (!instance) {
        report.unavailable.push_back("vulkan: built, but no instance (no driver/ICD?): " +
                                     instance.status().message());
        return;
    }
    auto physical = (*instance)->physicalDevices();
    if (!physical) {
        report.unavailable.push_back("vulkan: built, but device enumeration failed: " +
                                     physical.status().message());
        return;
    }
    if (physical->empty()) {
        report.unavailable.push_back("vulkan: built, but the loader reports 0 devices");
        return;
    }
    for (size_t i = 0; i < physical->size(); ++i)
        report.devices.push_back(describe((*physical)[i], int(i)));
}

bool vulkanBuilt() {
    return true;
}

} // namespace moe::backend
