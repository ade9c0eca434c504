// The Vulkan backend's entry points when it was not built (headers, loader or glslc missing at
// configure time, or MOE_VULKAN=OFF): no devices, and a line in `unavailable` saying why.
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
