// LoRA adapters in PEFT's layout (reference/model-formats.md §11): adapter_config.json (peft_type
// LORA, r, lora_alpha, lora_dropout, use_rslora, target_modules, ...) and adapter_model.safetensors
// whose keys are "base_model.model." + the module's name + ".lora_A.weight" / ".lora_B.weight"
// (A [r, in], B [out, r]), as PEFT's save_pretrained writes them for the default adapter.
#pragma once

#include "models/train-model.h"
#include "moe/status.h"

#include <map>
#include <string>
#include <vector>

namespace moe::train {

constexpr const char* kPeftPrefix = "base_model.model.";

struct PeftAdapter {
    TrainTargets targets; // loraRank/Alpha/Dropout/rsLora; loraModules: the full module names
    std::map<std::string, std::vector<float>> tensors; // param name (prefix stripped) -> values
    std::map<std::string, std::vector<int64_t>> shapes;
};

// Reads dir/adapter_config.json and dir/adapter_model.safetensors. Errors name the file and the
// field or tensor (a non-LORA peft_type, rank_pattern/alpha_pattern, DoRA, a key without lora_A/B).
Result<PeftAdapter> loadPeftAdapter(const std::string& dir);

// GGUF llama-architecture files (Mixtral, Llama) store q_proj/k_proj rows permuted per head for
// interleaved rope (convert_hf_to_gguf's permute); Hugging Face and PEFT files do not. Reorders
// the rows of a tensor named `name` ([rows, cols], a q/k projection's weight or its lora_B) from the
// model's order to Hugging Face's (toHf) or back; a no-op for every other tensor and model.
void reorderRopeRows(const ModelSpec& spec, const std::string& name, std::vector<float>& values, bool toHf);

// Copies an adapter's tensors into a TrainModel bound with adapter.targets; every LoRA Param must
// get exactly one tensor of its shape.
Status applyPeftAdapter(TrainModel& model, const PeftAdapter& adapter, const std::string& dir);

// Writes the LoRA Params of params (names ending in lora_A/lora_B.weight) as a PEFT adapter;
// baseModel goes to base_model_name_or_path. Files written to temporaries and renamed.
Status savePeftAdapter(const std::string& dir, const ModelSpec& spec, const TrainTargets& targets,
                       const std::vector<Param*>& params, const std::string& baseModel);

// Writes float32 tensors as one safetensors file (checkpoints, full/ESFT results), atomically.
Status writeF32Tensors(const std::string& path,
                       const std::vector<std::pair<std::string, const Param*>>& tensors,
                       const std::vector<const std::vector<float>*>& values = {});

} // namespace moe::train
