// Compute devices the engine can see: the CPU always, CUDA GPUs and Vulkan devices when their
// backends were built and a driver answers. Enumeration never fails: a backend that cannot
// start reports why in `unavailable` instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moe {

struct DeviceInfo {
    std::string backend; // "cpu", "cuda", "vulkan"
    int index = 0;
    std::string name;
    uint64_t memoryBytes = 0;
    std::string detail; // compute capability, driver, device type
};

struct DeviceReport {
    std::vector<DeviceInfo> devices;
    std::vector<std::string> unavailable; // "cuda: built, but no device: <driver message>"
    std::vector<std::string> builtBackends;
};

DeviceReport listDevices();

} // namespace moe
