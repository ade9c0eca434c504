// Quantization schemes and the llama-quantize fallback rule (see quant-schemes.h).
#include "formats/gguf/quants/quant-schemes.h"

#include "formats/gguf/gguf-types.h"

namespace moe::quants {

namespace {

using gguf::GgmlType;

struct SchemeRow {
    const char* name;
    GgmlType type;
    uint32_t fileType;
    bool mixedKM;
};

// LlamaFileType values: ALL_F32 0, MOSTLY_F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, Q2_K 10,
// Q3_K_S 11, Q4_K_S 14, Q4_K_M 15, Q5_K_S 16, Q5_K_M 17, Q6_K 18, BF16 32.
constexpr SchemeRow kSchemes[] = {
    {"f32", GgmlType::F32, 0, false},    {"f16", GgmlType::F16, 1, false},
    {"bf16", GgmlType::BF16, 32, false}, {"q8_0", GgmlType::Q8_0, 7, false},
    {"q4_0", GgmlType::Q4_0, 2, false},  {"q4_1", GgmlType::Q4_1, 3, false},
    {"q5_0", GgmlType::Q5_0, 8, false},  {"q5_1", GgmlType::Q5_1, 9, false},
    {"q2_k", GgmlType::Q2_K, 10, false}, {"q3_k", GgmlType::Q3_K, 11, false},
    {"q4_k", GgmlType::Q4_K, 14, false}, {"q5_k", GgmlType::Q5_K, 16, false},
    {"q6_k", GgmlType::Q6_K, 18, false}, {"q4_k_m", GgmlType::Q4_K, 15, true},
    {"q5_k_m", GgmlType::Q5_K, 17, true},
};

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

} // namespace

std::optional<QuantScheme> quantScheme(const std::string& name) {
    for (const SchemeRow& r : kSchemes)
        if (name == r.name) return QuantScheme{r.name, uint32_t(r.type), r.fileType, r.mixedKM};
    return std::nullopt;
}

std::vector<std::string> quantSchemeNames() {
    std::vector<std::string> names;
    for (const SchemeRow& r : kSchemes) names.emplace_back(r.name);
    return names;
}

uint32_t fallbackType(uint32_t type, int64_t rowLen) {
    auto traits = gguf::typeTraits(type);
    if (!traits || rowLen % traits->blockSize == 0) return type;
    uint32_t next = uint32_t(GgmlType::F16);
    switch (GgmlType(type)) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K: next = uint32_t(GgmlType::Q5_0); break;
    case GgmlType::Q5_K: next = uint32_t(GgmlType::Q5_1); break;
    case GgmlType::Q6_K: next = uint32_t(GgmlType::Q8_0); break;
    default: break;
    }
    return next == uint32_t(GgmlType::F16) ? next : fallbackType(next, rowLen);
}

uint32_t schemeTensorType(const QuantScheme& scheme, const std::string& name, const std::vector<uint64_t>& ne,
                          uint32_t* wanted) {
    uint32_t type = scheme.type;
    if (ne.size() < 2 || contains(name, "ffn_gate_inp")) type = uint32_t(GgmlType::F32);
    else if (scheme.mixedKM && (contains(name, "attn_v.") || contains(name, "ffn_down") || name == "output.weight"))
        type = uint32_t(GgmlType::Q6_K);
    if (wanted) *wanted = type;
    return fallbackType(type, int64_t(ne[0]));
}

} // namespace moe::quants
