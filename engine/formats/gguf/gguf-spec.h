// GGUF metadata -> ModelSpec for every architecture the engine runs (model-formats.md §9.5-§9.8):
// llama (Mixtral when llama.expert_count is set, else dense Llama), qwen2moe, qwen3moe, olmoe,
// qwen2, qwen3 and deepseek2 (both the current MLA form with attn_k_b/attn_v_b and the legacy form
// with attn_kv_b). The spec equals what formats/hf/hf-config.h gives for the config.json of the
// same model, except the rope row layout of llama-arch files, which convert_hf_to_gguf.py permuted
// to interleaved (§1.3). A few facts GGUF keeps only in its tensors are read from tensor presence
// and shapes: attention biases, QK-norm width, tied embeddings, the shared-expert gate, V3's
// selection bias (topk_method noaux_tc) and Qwen-MoE dense layers.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-writer.h"
#include "moe/model.h"
#include "moe/status.h"

#include <functional>
#include <string_view>

namespace moe::gguf {

// Finds a tensor by name wherever the model keeps it (one file, or the shards of a split model).
using TensorLookup = std::function<const TensorEntry*(std::string_view name)>;

// Reads general.architecture and the hyper-parameters of that architecture from file's metadata
// into spec; tensors are looked up through `tensors` (they may live in other shards). On failure
// spec is left untouched and the Status names the file and the key (or tensor) at fault:
// a missing required key, a key of the wrong type, a value out of range, inconsistent values
// (head_count not a multiple of head_count_kv, expert_used_count > expert_count, ...), or an
// architecture this build does not run (Unsupported).
Status readGgufSpec(const GgufFile& file, const TensorLookup& tensors, ModelSpec& spec);

// The single-file form: tensors are looked up in file itself.
Status readGgufSpec(const GgufFile& file, ModelSpec& spec);

// The inverse: spec's architecture keys (§9.5-§9.6) as convert_hf_to_gguf.py writes them for
// spec.architecture (deepseek2 in the MLA form), so readGgufSpec gives spec back.
void writeGgufSpec(GgufWriter& w, const ModelSpec& spec);

} // namespace moe::gguf
