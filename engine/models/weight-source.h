// WeightSource: named tensors of a loaded model, whatever the file format, under one canonical
// vocabulary — the GGUF names of §9.7 ("blk.L.attn_q.weight", "blk.L.ffn_gate_exps.weight"), with
// per-expert tensors as "blk.L.ffn_gate.E.weight" (the legacy per-expert GGUF spelling, which
// Hugging Face checkpoints map to). Family binders ask a source for names and shapes; they never
// see a file format. Entries point into mapped files: nothing is copied, except tensors the
// engine cannot read in place (FP8 with block scales), which the source dequantizes once at open
// and owns. A source outlives every view bound from it (ModelImpl holds both).
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-split.h"
#include "formats/safetensors/safetensors-folder.h"
#include "moe/status.h"
#include "ops/ops.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moe {

struct WeightEntry {
    std::string name;           // canonical name
    std::string fileName;       // the name in the file (HF name for safetensors)
    std::string path;           // file holding it
    std::vector<int64_t> shape; // PyTorch order, slowest first
    std::string typeName;       // stored type: "F32", "BF16", "Q4_K", "F8_E4M3 (dequantized)"...
    const void* data = nullptr;
    bool viewable = false;      // type maps to an ops::WeightType
    ops::WeightType type = ops::WeightType::F32;
    uint32_t ggmlType = 0;      // ggml type id when type == Quantized (formats/gguf/quants)
    // "<path>: tensor '<fileName>'" (plus the canonical name when it differs), for messages.
    std::string describe() const;
};

class WeightSource {
public:
    virtual ~WeightSource() = default;
    virtual const WeightEntry* find(std::string_view canonicalName) const = 0;
    // Where the weights live (file or folder), for messages.
    virtual const std::string& location() const = 0;

    // A 1-D float32 vector of n elements (norm weights). F16/BF16 vectors are converted once and
    // kept by the source. Errors name the tensor and what was expected.
    Result<const float*> vectorF32(const std::string& name, int64_t n) const;
    // A matrix [rows, cols] in a type the ops read. Errors name the tensor, its shape or type.
    Result<ops::WeightView> matrix(const std::string& name, int64_t rows, int64_t cols) const;
    // A stack [n, rows, cols] (GGUF stacked experts) viewed as [n * rows, cols].
    Result<ops::WeightView> stacked(const std::string& name, int64_t n, int64_t rows, int64_t cols) const;

private:
    mutable std::deque<std::vector<float>> m_converted;
};

// GGUF: names as stored; shapes from ggml ne reversed. A split model's tensors come from all its
// shards (each entry's path names its shard); the files must outlive the source.
class GgufWeightSource final : public WeightSource {
public:
    explicit GgufWeightSource(const gguf::GgufFile& file);
    explicit GgufWeightSource(const gguf::GgufModelFiles& files);
    const WeightEntry* find(std::string_view name) const override;
    const std::string& location() const override { return m_location; }

private:
    void add(const gguf::GgufFile& file);
    std::string m_location; // the first (metadata) file
    std::unordered_map<std::string, WeightEntry> m_entries;
};

// Hugging Face safetensors folder: HF v4 checkpoint names (§8.4) mapped to canonical names
// (hfToCanonical); names without a mapping stay reachable under their HF name.
class SafetensorsWeightSource final : public WeightSource {
public:
    static Result<std::unique_ptr<SafetensorsWeightSource>> open(const std::string& dir);
    const WeightEntry* find(std::string_view name) const override;
    const std::string& location() const override { return m_folder.dir(); }
    const st::SafetensorsFolder& folder() const { return m_folder; }

private:
    st::SafetensorsFolder m_folder;
    std::unordered_map<std::string, WeightEntry> m_entries;
    std::deque<std::vector<float>> m_dequantized;
};

// "model.layers.3.block_sparse_moe.experts.5.w1.weight" -> "blk.3.ffn_gate.5.weight"; empty when
// the name has no canonical form.
std::string hfToCanonical(const std::string& hfName);

} // namespace moe
