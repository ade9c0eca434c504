// DeviceBuffer: RAII ownership of one cudaMalloc allocation, move-only. Allocation and copies
// go through MOE_CUDA_CHECK, so they return a Status instead of aborting.
#pragma once

#include "backends/cuda/cuda-check.h"

#include <cstddef>
#include <utility>

namespace moe::cuda {

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : m_ptr(std::exchange(other.m_ptr, nullptr)), m_bytes(std::exchange(other.m_bytes, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        if (this != &other) {
            release();
            m_ptr = std::exchange(other.m_ptr, nullptr);
            m_bytes = std::exchange(other.m_bytes, 0);
        }
        return *this;
    }
    ~DeviceBuffer() { release(); }

    // Allocates `bytes` on the current device (bytes == 0 allocates nothing and succeeds).
    Status allocate(size_t bytes) {
        release();
        if (bytes == 0) return Status::ok();
        MOE_CUDA_CHECK(cudaMalloc(&m_ptr, bytes));
        m_bytes = bytes;
        return Status::ok();
    }
    // Blocking copies; `bytes` must not exceed size().
    Status upload(const void* host, size_t bytes) {
        if (bytes == 0) return Status::ok();
        MOE_CUDA_CHECK(cudaMemcpy(m_ptr, host, bytes, cudaMemcpyHostToDevice));
        return Status::ok();
    }
    Status download(void* host, size_t bytes) const {
        if (bytes == 0) return Status::ok();
        MOE_CUDA_CHECK(cudaMemcpy(host, m_ptr, bytes, cudaMemcpyDeviceToHost));
        return Status::ok();
    }

    template <class T> T* as() const { return static_cast<T*>(m_ptr); }
    size_t size() const { return m_bytes; }

private:
    void release() {
        if (m_ptr) (void)cudaFree(m_ptr); // a failed free has nobody to report to
        m_ptr = nullptr;
        m_bytes = 0;
    }

    void* m_ptr = nullptr;
    size_t m_bytes = 0;
};

} // namespace moe::cuda
