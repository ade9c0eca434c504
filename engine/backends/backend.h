// Backend entry points the engine core calls. Each backend folder implements its query (and, as
// the backends grow, its op table); a backend that was not built provides the same functions in
// its "-absent" file so the core never needs #ifdefs.
#pragma once

#include "moe/devices.h"
#include "moe/status.h"

namespace moe::backend {

// Each appends its devices to report.devices, or a reason to report.unavailable.
void queryCpu(DeviceReport& report);
void queryCuda(DeviceReport& report);
void queryVulkan(DeviceReport& report);

bool cudaBuilt();
bool vulkanBuilt();

} // namespace moe::backend
