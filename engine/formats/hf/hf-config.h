// Hugging Face config.json and generation_config.json -> ModelSpec (model-formats.md §2-§6).
// Architectures: MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, OlmoeForCausalLM,
// DeepseekV2ForCausalLM, DeepseekV3ForCausalLM, and the dense LlamaForCausalLM, Qwen2ForCausalLM,
// Qwen3ForCausalLM (family "dense", arch "llama", "qwen2", "qwen3"). spec.architecture takes the
// GGUF arch name of the same model ("llama" for Mixtral, "qwen2moe", "qwen3moe", "olmoe",
// "deepseek2"), so a GGUF file and an HF folder of one model give the same spec. Both RoPE
// spellings are read: transformers 4's `rope_theta` + `rope_scaling` and transformers 5's
// `rope_parameters`. Rope row layout is recorded as it is in HF checkpoints: half rotation, except
// DeepSeek (interleaved, §1.3).
#pragma once

#include "moe/model.h"
#include "moe/status.h"

#include <string>

namespace moe::hf {

// Parses the config.json at path into spec (every field the architecture defines; the rest keep
// their defaults). Errors name the file and the key: missing, wrong type, out of range, or an
// architecture this build does not know (Unsupported).
Status readConfig(const std::string& path, ModelSpec& spec);

// Same, from the JSON text (path is only used in messages).
Status readConfigText(const std::string& text, const std::string& path, ModelSpec& spec);

// Reads generation_config.json: sampling defaults into spec.generation, and bos/eos ids, which
// override config.json's (transformers' generate() uses these). Errors name the file and key.
Status readGenerationConfig(const std::string& path, ModelSpec& spec);

// The folder's chat template, verbatim: chat_template.jinja when present (transformers >= 4.43
// writes it there), else tokenizer_config.json's "chat_template" (a string, or a list of
// {name, template} of which "default" is taken); empty when the folder has neither.
Result<std::string> readChatTemplate(const std::string& dir);

} // namespace moe::hf
