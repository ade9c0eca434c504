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

} // namespace moe
