// queryCpu(): the CPU as a device. Model name from /proc/cpuinfo ("model name", or "Processor" /
// "Hardware" on some ARM kernels), logical core count and total RAM from sysconf. The CPU is always
// present, so this never reports `unavailable`; fields it cannot read fall back to "cpu" and 0.
// The detail names the matmul kernels chosen for this CPU at run time and the BLAS library.
#include "backends/backend.h"
#include "backends/cpu/cpu-matmul.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace moe::backend {
namespace {

// The value of the first /proc/cpuinfo line whose key is one of the CPU-name keys, or "".
std::string cpuModelName() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
            key.pop_back();
        if (key != "model name" && key != "Processor" && key != "Hardware") continue;
        std::string value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        return first == std::string::npos ? std::string() : value.substr(first);
    }
    return {};
}

uint64_t totalRamBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || pageSize <= 0) return 0;
    return uint64_t(pages) * uint64_t(pageSize);
}

} // namespace

void queryCpu(DeviceReport& report) {
    DeviceInfo info;
    info.backend = "cpu";
    info.index = 0;
    info.name = cpuModelName();
    if (info.name.empty()) info.name = "cpu";
    info.memoryBytes = totalRamBytes();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores <= 0) cores = long(std::thread::hardware_concurrency());
    info.detail = std::to_string(cores > 0 ? cores : 1) + " logical cores, matmul kernels " +
                  cpu::matmulIsa() + ", gemm " + cpu::gemmLibrary();
    report.devices.push_back(std::move(info));
}

} // namespace moe::backend
