// queryCuda(): the CUDA devices the runtime can see, with name, memory, compute capability,
// driver and runtime versions. Designed for machines without a GPU or driver: every runtime
// call's error is caught and turned into one `unavailable` line; nothing here can abort.
#include "backends/backend.h"
#include "backends/cuda/cuda-check.h"

#include <string>

namespace moe::backend {
namespace {

// CUDA encodes versions as 1000 * major + 10 * minor: 13000 -> "13.0".
std::string cudaVersionText(int version) {
    if (version <= 0) return "none";
    return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

// Fills report.devices from the runtime; any failing call ends the query with its Status.
Status enumerateCudaDevices(DeviceReport& report) {
    int count = 0;
    MOE_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (count == 0) return Status(StatusCode::NotFound, "the runtime reports 0 CUDA devices");
    int driverVersion = 0;
    int runtimeVersion = 0;
    MOE_CUDA_CHECK(cudaDriverGetVersion(&driverVersion));
    MOE_CUDA_CHECK(cudaRuntimeGetVersion(&runtimeVersion));
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        MOE_CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
        DeviceInfo info;
        info.backend = "cuda";
        info.index = i;
        info.name = prop.name;
        info.memoryBytes = prop.totalGlobalMem;
        info.detail = "sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
                      std::to_string(prop.multiProcessorCount) + " SMs, driver " +
                      cudaVersionText(driverVersion) + ", runtime " +
                      cudaVersionText(runtimeVersion);
        report.devices.push_back(std::move(info));
    }
    return Status::ok();
}

} // namespace

void queryCuda(DeviceReport& report) {
    DeviceReport found;
    const Status status = enumerateCudaDevices(found);
    if (!status.isOk()) {
        report.unavailable.push_back("cuda: built, but no usable device: " + status.message());
        return;
    }
    for (DeviceInfo& info : found.devices)
        report.devices.push_back(std::move(info));
}

bool cudaBuilt() {
    return true;
}

} // namespace moe::backend
