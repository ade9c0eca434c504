// Random models of the architectures beyond v0's Mixtral (random-model-arch.cpp): DeepSeek-V2
// (MLA in the current GGUF form, §9.6), Qwen3-MoE and OLMoE, at preset shapes. Internal to
// writeRandomModel (random-model.cpp), which keeps Mixtral's own v0 writer.
#pragma once

#include "formats/gguf/quants/quant-schemes.h"
#include "moe/model-factory.h"

#include <optional>

namespace moe {

// The presets of arch among deepseek2, qwen3moe, olmoe (empty for any other arch).
std::vector<std::string> randomArchPresets(const std::string& arch);

// The spec (arch, preset, seed) loads as; nullopt when the pair is unknown.
std::optional<ModelSpec> randomArchSpec(const std::string& arch, const std::string& preset,
                                        uint64_t seed);

// Writes the GGUF of randomArchSpec(o.arch, o.preset, o.seed) with its large matrices in scheme.
// Every row is drawn from its own generator stream (seed, tensor, row), so row blocks are
// generated and quantized in parallel and the bytes do not depend on the thread count.
Status writeRandomArchModel(const RandomModelOptions& o, const quants::QuantScheme& scheme,
                            const std::string& path);

} // namespace moe
