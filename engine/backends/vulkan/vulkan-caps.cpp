// queryCapabilities(): properties and features through the Vulkan 1.1 *2 queries; a feature struct
// is chained only when the device's API version or extension list defines it.
#include "backends/vulkan/vulkan-caps.h"

#include <cstring>
#include <vector>

namespace moe::vulkan {
namespace {

bool hasExtension(const std::vector<VkExtensionProperties>& list, const char* name) {
    for (const VkExtensionProperties& e : list)
        if (std::strcmp(e.extensionName, name) == 0) return true;
    return false;
}

} // namespace

Capabilities queryCapabilities(VkPhysicalDevice physical) {
    Capabilities caps;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(physical, &props);
    caps.apiVersion = props.apiVersion;
    caps.sharedMemoryBytes = props.limits.maxComputeSharedMemorySize;
    caps.maxStorageBuffersPerStage = props.limits.maxPerStageDescriptorStorageBuffers;
    caps.maxStorageBufferRange = props.limits.maxStorageBufferRange;
    caps.maxAllocationBytes = caps.maxStorageBufferRange;

    uint32_t count = 0;
    std::vector<VkExtensionProperties> extensions;
    if (vkEnumerateDeviceExtensionProperties(physical, nullptr, &count, nullptr) == VK_SUCCESS) {
        extensions.resize(count);
        if (vkEnumerateDeviceExtensionProperties(physical, nullptr, &count, extensions.data()) !=
            VK_SUCCESS)
            extensions.clear();
        extensions.resize(count);
    }
    caps.int8Dot = hasExtension(extensions, "VK_KHR_shader_integer_dot_product");
    caps.cooperativeMatrix = hasExtension(extensions, "VK_KHR_cooperative_matrix");

    VkPhysicalDeviceFeatures base{};
    vkGetPhysicalDeviceFeatures(physical, &base);
    caps.fp64 = base.shaderFloat64 == VK_TRUE;
    caps.int64 = base.shaderInt64 == VK_TRUE;
    if (props.apiVersion < VK_API_VERSION_1_1) return caps;

    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    VkPhysicalDeviceMaintenance3Properties m3{};
    m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    subgroup.pNext = &m3;
    VkPhysicalDeviceProperties2 props2{};
    props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props2.pNext = &subgroup;
    vkGetPhysicalDeviceProperties2(physical, &props2);
    caps.subgroupSize = subgroup.subgroupSize;
    caps.subgroupArithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                              (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    if (m3.maxMemoryAllocationSize > 0) caps.maxAllocationBytes = m3.maxMemoryAllocationSize;

    if (props.apiVersion >= VK_API_VERSION_1_2 ||
        hasExtension(extensions, "VK_KHR_shader_float16_int8")) {
        VkPhysicalDeviceShaderFloat16Int8Features f16{};
        f16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
        VkPhysicalDeviceFeatures2 features2{};
        features2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
        features2.pNext = &f16;
        vkGetPhysicalDeviceFeatures2(physical, &features2);
        caps.fp16 = f16.shaderFloat16 == VK_TRUE;
    }
    return caps;
}

std::string describeCapabilities(const Capabilities& c) {
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    std::string s = std::string("fp16 ") + yes(c.fp16) + ", int8 dot " + yes(c.int8Dot);
    if (c.subgroupSize > 0)
        s += ", subgroup " + std::to_string(c.subgroupSize) +
             (c.subgroupArithmetic ? " (arithmetic)" : "");
    s += ", shared " + std::to_string(c.sharedMemoryBytes / 1024) + " KiB";
    s += std::string(", fp64 ") + yes(c.fp64) + ", int64 " + yes(c.int64);
    if (c.cooperativeMatrix) s += ", cooperative matrix";
    // The kernels this build uses on every device: f32 arithmetic over dequantized chunks, shared
    // memory reductions (no subgroup, fp16 or int8-dot variants yet).
    s += "; kernels: f32 scalar";
    if (!(c.fp64 && c.int64)) s += ", routing statistics on the host";
    return s;
}

} // namespace moe::vulkan
