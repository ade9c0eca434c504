// Seeded random-weight models of real architectures and preset shapes, written as GGUF. Tests and
// the demo use them until real weights are at hand; the same (arch, preset, seed, type) always
// writes the same bytes.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moe {

struct RandomModelOptions {
    std::string arch = "mixtral"; // v0: mixtral
    std::string preset = "tiny";  // v0: tiny, small
    uint64_t seed = 1;
    std::string type = "f32"; // f32, f16, bf16 for the large matrices (norms stay f32)
};

std::vector<std::string> randomModelPresets(const std::string& arch);

// Writes the model to path (atomically: a temporary file renamed into place).
Status writeRandomModel(const RandomModelOptions& options, const std::string& path);

} // namespace moe
