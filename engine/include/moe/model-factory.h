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
    std::string type = "f32"; // large matrices: f32, f16, bf16, q8_0, q4_0, q5_0, q4_k, q5_k, q6_k, q4_k_m
                              // (norms and the router stay f32; K-quant rows that are not whole
                              // 256-blocks fall back as llama-quantize does)
    std::string format = "gguf"; // "gguf": one file; "hf": a Hugging Face folder of the same model
    int shards = 1;              // "hf": > 1 writes model-0000i-of-0000n.safetensors + index.json
};

std::vector<std::string> randomModelPresets(const std::string& arch);

// Writes the model to path (atomically: a temporary file renamed into place); format "hf" makes
// path a folder (writeRandomModelHf).
Status writeRandomModel(const RandomModelOptions& options, const std::string& path);
// The same model as a Hugging Face folder at dir: config.json, generation_config.json and
// safetensors in HF layout (per-expert tensors, half-rotation q/k rows); f32, f16, bf16 only.
Status writeRandomModelHf(const RandomModelOptions& options, const std::string& dir);

} // namespace moe
