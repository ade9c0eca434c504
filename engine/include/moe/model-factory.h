// Seeded random-weight models of real architectures and preset shapes, written as GGUF. Tests and
// the demo use them until real weights are at hand; the same (arch, preset, seed, type) always
// writes the same bytes.
#pragma once

#include "moe/model.h"
#include "moe/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moe {

struct RandomModelOptions {
    // mixtral (tiny, small), deepseek2 (tiny, v2-lite: DeepSeek-V2-Lite's exact shape), qwen3moe
    // (tiny), olmoe (tiny); randomModelPresets lists them
    std::string arch = "mixtral";
    std::string preset = "tiny";
    uint64_t seed = 1;
    std::string type = "f32"; // large matrices: f32, f16, bf16, q8_0, q4_0, q5_0, q4_k, q5_k, q6_k, q4_k_m
                              // (norms and the router stay f32; K-quant rows that are not whole
                              // 256-blocks fall back as llama-quantize does)
    std::string format = "gguf"; // "gguf": one file; "hf": a Hugging Face folder of the same model
    int shards = 1;              // "hf": > 1 writes model-0000i-of-0000n.safetensors + index.json
};

std::vector<std::string> randomModelPresets(const std::string& arch);
std::vector<std::string> randomModelArchs();

// The ModelSpec the GGUF file of (arch, preset, seed) loads as (Model::load of writeRandomModel's
// output gives this spec); InvalidArgument for an unknown arch or preset.
Result<ModelSpec> randomModelSpec(const RandomModelOptions& options);

// Writes the model to path (atomically: a temporary file renamed into place); format "hf" makes
// path a folder (writeRandomModelHf). Tensors are generated and quantized one at a time, row
// blocks in parallel over the machine's cores, so memory stays at about one tensor whatever the
// model's size (DeepSeek-V2-Lite's 15.7 B weights included).
Status writeRandomModel(const RandomModelOptions& options, const std::string& path);
// The same model as a Hugging Face folder at dir: config.json, generation_config.json and
// safetensors in HF layout (per-expert tensors, half-rotation q/k rows); f32, f16, bf16 only;
// mixtral only.
Status writeRandomModelHf(const RandomModelOptions& options, const std::string& dir);

} // namespace moe
