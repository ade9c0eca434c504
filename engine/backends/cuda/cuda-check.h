// MOE_CUDA_CHECK: how every CUDA runtime call in this backend reports failure. A failed call
// becomes a moe::Status (DeviceError; OutOfMemory for allocation failures) whose message names
// the call, file:line and the runtime's own text. Nothing here aborts: the caller returns the
// Status and the session decides what a device error means.
#pragma once

#include "moe/status.h"

#include <cuda_runtime.h>

namespace moe::cuda {

// The Status for `err` raised by `call` at file:line; Status::ok() for cudaSuccess.
// Also clears the runtime's last-error slot so a later, unrelated check does not see it again.
Status cudaStatus(cudaError_t err, const char* call, const char* file, int line);

} // namespace moe::cuda

// MOE_CUDA_CHECK(call): evaluates a cudaError_t expression; on failure returns the Status from
// the enclosing function (which returns Status or Result<T>).
#define MOE_CUDA_CHECK(call)                                                                       \
    do {                                                                                           \
        const cudaError_t moeCudaErr_ = (call);                                                    \
        if (moeCudaErr_ != cudaSuccess)                                                            \
            return ::moe::cuda::cudaStatus(moeCudaErr_, #call, __FILE__, __LINE__);                \
    } while (0)
