// Model quantization: rewrite a GGUF model with its weight matrices in another type (q4_k, q8_0,
// q4_k_m, f16, ...), the way llama-quantize does, streaming one tensor at a time.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace moe {

struct QuantizeTypeSummary {
    std::string type; // ggml type name, "Q4_K"
    int tensors = 0;
    uint64_t bytes = 0;
};

struct QuantizeReport {
    uint64_t bytesBefore = 0; // tensor data of the input
    uint64_t bytesAfter = 0;  // tensor data of the output
    std::vector<QuantizeTypeSummary> before, after; // per type, sorted by name
    std::vector<std::string> fallbacks;             // "blk.0.ffn_down_exps.weight: Q5_0 (row 1408)"
    std::string tokenizer; // convertHfFolder: the vocabulary written ("gpt2 (pre qwen2), 151936 tokens, ...")
};

// The --type names: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k,
// q4_k_m, q5_k_m.
std::vector<std::string> quantizeTypeNames();

// Reads inPath (any GGUF the engine reads), writes outPath (atomically) with the same metadata
// (general.file_type set to the scheme, general.quantization_version = 2 when quantized) and the
// 2-D+ weights converted; 1-D tensors and the router (ffn_gate_inp) stay F32, rows that are not
// whole blocks fall back (Q5_0/Q5_1/Q8_0, then F16). progress(done, total) after each tensor;
// returning false cancels (Cancelled, no output file). Errors name the file and the tensor.
Result<QuantizeReport> quantizeModelFile(const std::string& inPath, const std::string& outPath,
                                         const std::string& type,
                                         const std::function<bool(int, int)>& progress = {});

// Converts a Hugging Face folder (config.json + *.safetensors, optional tokenizer files) into one
// GGUF v3 file the way llama.cpp's convert_hf_to_gguf.py does (model-formats.md §9.4-§9.10):
// general.* and the architecture's keys (llama incl. Mixtral, qwen2moe, qwen3moe, olmoe, dense
// llama/qwen2/qwen3, deepseek2 in the current MLA form), tensors renamed to §9.7, experts stacked,
// llama q/k rows permuted to interleaved rope pairs, DeepSeek kv_b_proj split into attn_k_b
// (transposed per head) and attn_v_b, MTP layers skipped, the vocabulary and chat template.
// type: "" keeps each weight's type (F32/F16/BF16; FP8 becomes BF16; 1-D tensors and routers
// F32), or any quantizeTypeNames() scheme with the same per-tensor rules and fallbacks as
// quantizeModelFile. Written atomically: on any error (Cancelled too) no file is left at outPath.
// Errors name the folder or file and the tensor or key.
Result<QuantizeReport> convertHfFolder(const std::string& dir, const std::string& outPath,
                                       const std::string& type = {},
                                       const std::function<bool(int, int)>& progress = {});

} // namespace moe
