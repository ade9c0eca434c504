// Build version of the engine (and the studio).
#pragma once

namespace moe {
const char* versionString(); // "0.1.0"
const char* buildDescription(); // "0.1.0 (Release, CUDA on, Vulkan on)"
} // namespace moe
