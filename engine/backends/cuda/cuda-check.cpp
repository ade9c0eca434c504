// cudaStatus(): turns a CUDA runtime error into a moe::Status naming the call and its place.
#include "backends/cuda/cuda-check.h"

#include <cstring>
#include <string>

namespace moe::cuda {
namespace {

// "engine/backends/..." instead of the build machine's absolute path, when the path has it.
const char* sourcePath(const char* file) {
    const char* engine = std::strstr(file, "/engine/");
    return engine ? engine + 1 : file;
}

} // namespace

Status cudaStatus(cudaError_t err, const char* call, const char* file, int line) {
    if (err == cudaSuccess) return Status::ok();
    (void)cudaGetLastError(); // non-sticky errors are cleared; sticky ones stay in the context
    const StatusCode code =
        err == cudaErrorMemoryAllocation ? StatusCode::OutOfMemory : StatusCode::DeviceError;
    return Status(code, std::string(sourcePath(file)) + ":" + std::to_string(line) + ": " + call +
                            " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

} // namespace moe::cuda
