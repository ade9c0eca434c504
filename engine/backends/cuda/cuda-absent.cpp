// The CUDA backend's entry points when it was not built (nvcc missing at configure time, or
// MOE_CUDA=OFF): no devices, and a line in `unavailable` saying why.
#include "backends/backend.h"

namespace moe::backend {

void queryCuda(DeviceReport& report) {
    report.unavailable.push_back("cuda: not built (nvcc not found at build time)");
}

bool cudaBuilt() {
    return false;
}

} // namespace moe::backend

namespace moe {

Result<std::unique_ptr<ComputeBackend>> makeCudaBackend(int device) {
    return Status(StatusCode::Unsupported,
                  "cuda:" + std::to_string(device) + ": this build has no CUDA backend (nvcc not found at build time)");
}

} // namespace moe
