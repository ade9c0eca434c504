// The Vulkan backend's entry points when it was not built (headers, loader or glslc missing at
// configure time, or MOE_VULKAN=OFF): no devices, a line in `unavailable` saying why, and no
// backend to make.
#include "backends/backend.h"

namespace moe::backend {

void queryVulkan(DeviceReport& report) {
    report.unavailable.push_back(
        "vulkan: not built (Vulkan headers/loader or glslc not found at build time)");
}

bool vulkanBuilt() {
    return false;
}

} // namespace moe::backend

namespace moe {

Result<std::unique_ptr<ComputeBackend>> makeVulkanBackend(int device) {
    return Status(StatusCode::Unsupported,
                  "vulkan: not built (Vulkan headers/loader or glslc not found at build "
                  "time); device " +
                      std::to_string(device) + " cannot be opened");
}

} // namespace moe
