// Device names of the public API ("cpu", "cuda", "cuda:1", "vulkan:0", "auto") resolved against
// the devices the engine sees, and the compute backend for one. "auto" prefers a CUDA GPU, then a
// Vulkan GPU (a CPU-type Vulkan device such as lavapipe is never auto-picked), then the CPU.
#include "backends/backend.h"

#include <cstdlib>

namespace moe {

Result<std::string> resolveDevice(const std::string& requested) {
    if (requested.empty() || requested == "cpu") return std::string("cpu");
    const DeviceReport report = listDevices();
    if (requested == "auto") {
        for (const DeviceInfo& d : report.devices)
            if (d.backend == "cuda") return "cuda:" + std::to_string(d.index);
        for (const DeviceInfo& d : report.devices)
            if (d.backend == "vulkan" && d.detail.rfind("CPU", 0) != 0) return "vulkan:" + std::to_string(d.index);
        return std::string("cpu");
    }
    std::string backend = requested;
    int index = 0;
    if (const auto colon = requested.find(':'); colon != std::string::npos) {
        backend = requested.substr(0, colon);
        char* end = nullptr;
        const long v = std::strtol(requested.c_str() + colon + 1, &end, 10);
        if (end == requested.c_str() + colon + 1 || *end != '\0' || v < 0 || v > 64)
            return Status(StatusCode::InvalidArgument, "device '" + requested + "': expected NAME or NAME:INDEX");
        index = int(v);
    }
    if (backend != "cuda" && backend != "vulkan")
        return Status(StatusCode::InvalidArgument,
                      "device '" + requested + "' is not one of cpu, cuda[:N], vulkan[:N], auto");
    for (const DeviceInfo& d : report.devices)
        if (d.backend == backend && d.index == index) return backend + ":" + std::to_string(index);
    std::string why;
    for (const std::string& u : report.unavailable)
        if (u.rfind(backend, 0) == 0) why = " (" + u + ")";
    return Status(StatusCode::NotFound, "device '" + requested + "' is not present" + why);
}

Result<std::unique_ptr<ComputeBackend>> makeDeviceBackend(const std::string& device, int nThreads) {
    if (device == "cpu") return makeCpuBackend(nThreads);
    const auto colon = device.find(':');
    const std::string backend = device.substr(0, colon);
    const int index = colon == std::string::npos ? 0 : std::atoi(device.c_str() + colon + 1);
    if (backend == "cuda") return makeCudaBackend(index);
    if (backend == "vulkan") return makeVulkanBackend(index);
    return Status(StatusCode::InvalidArgument, "device '" + device + "' is not a resolved device name");
}

} // namespace moe
