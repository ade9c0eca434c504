// Capabilities: what a Vulkan device offers the compute kernels (fp16 and int8 dot products,
// subgroups, shared memory, 64-bit shader types, buffer limits), read once per device. The device
// report (`moestudio-cli info --devices`) prints them with the kernel path the backend chose, so a
// user sees why a device runs the plain path.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

namespace moe::vulkan {

struct Capabilities {
    uint32_t apiVersion = 0;
    bool fp16 = false;              // shaderFloat16 (VK_KHR_shader_float16_int8 / 1.2)
    bool int8Dot = false;           // VK_KHR_shader_integer_dot_product
    bool cooperativeMatrix = false; // VK_KHR_cooperative_matrix offered
    bool fp64 = false;              // shaderFloat64: routing statistics on the device
    bool int64 = false;             // shaderInt64
    uint32_t subgroupSize = 0;
    bool subgroupArithmetic = false; // subgroupAdd/Max in compute shaders
    uint32_t sharedMemoryBytes = 0;  // maxComputeSharedMemorySize
    uint32_t maxStorageBuffersPerStage = 0;
    uint64_t maxStorageBufferRange = 0;
    uint64_t maxAllocationBytes = 0; // maintenance3 maxMemoryAllocationSize
};

// Reads the capabilities of `physical` (properties, features and extension list).
Capabilities queryCapabilities(VkPhysicalDevice physical);

// One line for the device report: "fp16 yes, int8 dot no, subgroup 32 (arithmetic), shared
// 48 KiB, fp64 yes; kernels: f32 scalar".
std::string describeCapabilities(const Capabilities& caps);

} // namespace moe::vulkan
