// cudaStatus(): turns a CUDA runtime error into a moe::Status naming the call and its place.
#include "backends/cuda/cuda-check.h"

#include <string>

namespace moe::cuda {

Status cudaStatus(cudaError_t err, const char* call, const char* file, int line) {
    if (err == cudaSuccess) return Status::ok();
    (void)cudaGetLastError(); // non-sticky errors are cleared; sticky ones stay in the context
    const StatusCode code =
        err == cudaErrorMemoryAllocation ? StatusCode::OutOfMemory : StatusCode::DeviceError;
    return Status(code, std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                            cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

} // namespace moe::cuda
