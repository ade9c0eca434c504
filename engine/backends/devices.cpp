// listDevices(): asks every backend for its devices. Order: CPU, CUDA, Vulkan.
#include "backends/backend.h"

namespace moe {

DeviceReport listDevices() {
    DeviceReport report;
    report.builtBackends.push_back("cpu");
    if (backend::cudaBuilt()) report.builtBackends.push_back("cuda");
    if (backend::vulkanBuilt()) report.builtBackends.push_back("vulkan");
    backend::queryCpu(report);
    backend::queryCuda(report);
    backend::queryVulkan(report);
    return report;
}

} // namespace moe
