// Quantization schemes: what `--type q4_k_m` and friends mean per tensor. A scheme names a main
// ggml type and the general.file_type (llama.cpp's LlamaFileType, §9.3) written for it; per tensor,
// 1-D tensors and the MoE router (ffn_gate_inp) stay F32, rows that are not whole blocks of the
// main type fall back the way llama-quantize does (§9.11: Q4_K/Q3_K/Q2_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, then F16 when even 32 does not divide the row), and the *_m schemes keep the
// sensitive matrices (attn_v, ffn_down, output) at Q6_K. general.file_type names the requested
// scheme even when some tensors fell back, as llama.cpp does: readers use each tensor's own type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::quants {

struct QuantScheme {
    std::string name;      // "q4_k_m"
    uint32_t type = 0;     // main ggml type
    uint32_t fileType = 0; // general.file_type
    bool mixedKM = false;  // Q6_K for attn_v, ffn_down, output
};

std::optional<QuantScheme> quantScheme(const std::string& name);
std::vector<std::string> quantSchemeNames(); // f32, f16, bf16, q8_0, ..., q4_k_m

// The type llama-quantize would use for rows of rowLen elements when it wants `type`.
uint32_t fallbackType(uint32_t type, int64_t rowLen);

// The type a tensor gets under the scheme (ne in ggml order: ne[0] is the row length). wanted, when
// given, receives the type before the fallback (differs from the result when the tensor fell back).
uint32_t schemeTensorType(const QuantScheme& scheme, const std::string& tensorName,
                          const std::vector<uint64_t>& ne, uint32_t* wanted = nullptr);

} // namespace moe::quants
