// WeightSource implementations: GGUF (names as stored) and Hugging Face safetensors folders (HF
// names mapped to the GGUF vocabulary, §9.7; FP8 weights with a `weight_scale_inv` sibling
// dequantized at open, §2.2).
#include "models/weight-source.h"

#include "core/half.h"
#include "ops/quants/quants.h"

#include <cstring>
#include <regex>

namespace moe {

namespace {

std::string shapeString(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

} // namespace

std::string WeightEntry::describe() const {
    std::string s = path + ": tensor '" + fileName + "'";
    if (fileName != name) s += " (" + name + ")";
    return s;
}

Result<const float*> WeightSource::vectorF32(const std::string& name, int64_t n) const {
    const WeightEntry* e = find(name);
    if (!e) return Status(StatusCode::CorruptFile, location() + ": tensor '" + name + "' is missing");
    if (e->shape != std::vector<int64_t>{n})
        return Status(StatusCode::CorruptFile, e->describe() + " has shape " + shapeString(e->shape) +
                                                   ", expected [" + std::to_string(n) + "]");
    if (!e->viewable)
        return Status(StatusCode::Unsupported, e->describe() + " is " + e->typeName + "; vectors are read as F32, F16 or BF16");
    if (e->type == ops::WeightType::F32) return static_cast<const float*>(e->data);
    std::vector<float>& out = m_converted.emplace_back(static_cast<size_t>(n));
    ops::WeightView v{e->data, e->type, 1, n, e->ggmlType};
    v.rowToF32(0, out.data());
    return static_cast<const float*>(out.data());
}

Result<ops::WeightView> WeightSource::matrix(const std::string& name, int64_t rows, int64_t cols) const {
    return stacked(name, 0, rows, cols);
}

Result<ops::WeightView> WeightSource::stacked(const std::string& name, int64_t n, int64_t rows, int64_t cols) const {
    const WeightEntry* e = find(name);
    if (!e) return Status(StatusCode::CorruptFile, location() + ": tensor '" + name + "' is missing");
    const std::vector<int64_t> want = n > 0 ? std::vector<int64_t>{n, rows, cols} : std::vector<int64_t>{rows, cols};
    if (e->shape != want)
        return Status(StatusCode::CorruptFile, e->describe() + " has shape " + shapeString(e->shape) + ", expected " +
                                                   shapeString(want) + " from the hyper-parameters");
    if (!e->viewable)
        return Status(StatusCode::Unsupported, e->describe() + " is " + e->typeName +
                                                   ", which this build cannot run (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
    ops::WeightView v;
    v.data = e->data;
    v.type = e->type;
    v.rows = rows * (n > 0 ? n : 1);
    v.cols = cols;
    v.ggmlType = e->ggmlType;
    return v;
}

GgufWeightSource::GgufWeightSource(const gguf::GgufFile& file) : m_location(file.path()) { add(file); }

GgufWeightSource::GgufWeightSource(const gguf::GgufModelFiles& files) : m_location(files.meta().path()) {
    for (const gguf::GgufFile& f : files.files()) add(f); // names are unique across shards (checked at open)
}

void GgufWeightSource::add(const gguf::GgufFile& file) {
    for (const gguf::TensorEntry& t : file.tensors()) {
        WeightEntry e;
        e.name = e.fileName = t.name;
        e.path = file.path();
        e.shape.assign(t.ne.rbegin(), t.ne.rend());
        e.typeName = gguf::typeName(t.type);
        e.data = file.tensorData(t);
        e.viewable = true;
        switch (gguf::GgmlType(t.type)) {
        case gguf::GgmlType::F32: e.type = ops::WeightType::F32; break;
        case gguf::GgmlType::F16: e.type = ops::WeightType::F16; break;
        case gguf::GgmlType::BF16: e.type = ops::WeightType::BF16; break;
        default: // quantized blocks are dequantized a row at a time by ops::WeightView
            e.viewable = quants::canDequantize(t.type);
            e.type = ops::WeightType::Quantized;
            e.ggmlType = t.type;
            break;
        }
        m_entries.emplace(e.name, std::move(e));
    }
}

const WeightEntry* GgufWeightSource::find(std::string_view name) const {
    auto it = m_entries.find(std::string(name));
    return it == m_entries.end() ? nullptr : &it->second;
}

std::string hfToCanonical(const std::string& n) {
    static const std::pair<const char*, const char*> kGlobal[] = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    for (const auto& [hf, c] : kGlobal)
        if (n == hf) return c;
    static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+))");
    std::smatch m;
    if (!std::regex_match(n, m, kLayer)) return {};
    const std::string blk = "blk." + m[1].str() + ".";
    const std::string rest = m[2].str();
    static const std::pair<const char*, const char*> kLayerNames[] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"},
        {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"self_attn.q_a_proj.weight", "attn_q_a.weight"},
        {"self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"},
        {"self_attn.q_b_proj.weight", "attn_q_b.weight"},
        {"self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"},
        {"self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"},
        {"self_attn.kv_b_proj.weight", "attn_kv_b.weight"},
        {"block_sparse_moe.gate.weight", "ffn_gate_inp.weight"},
        {"mlp.gate.weight", "ffn_gate_inp.weight"},
        {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
        {"mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"},
        {"mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"},
        {"mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"},
        {"mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"},
        {"mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"},
        {"mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"},
        {"mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight"},
    };
    for (const auto& [hf, c] : kLayerNames)
        if (rest == hf) return blk + c;
    // Experts: Mixtral w1/w3/w2 = gate/up/down (§1.2); the others gate_proj/up_proj/down_proj.
    static const std::regex kExpert(R"((block_sparse_moe|mlp)\.experts\.(\d+)\.(w1|w2|w3|gate_proj|up_proj|down_proj)\.weight)");
    if (std::regex_match(rest, m, kExpert)) {
        const std::string w = m[3].str();
        const char* kind = (w == "w1" || w == "gate_proj") ? "ffn_gate" : (w == "w3" || w == "up_proj") ? "ffn_up" : "ffn_down";
        return blk + kind + "." + m[2].str() + ".weight";
    }
    return {};
}

Result<std::unique_ptr<SafetensorsWeightSource>> SafetensorsWeightSource::open(const std::string& dir) {
    auto src = std::unique_ptr<SafetensorsWeightSource>(new SafetensorsWeightSource());
    MOE_ASSIGN_OR_RETURN(src->m_folder, st::SafetensorsFolder::open(dir));
    const st::SafetensorsFolder& folder = src->m_folder;
    const std::string kScaleSuffix = "_scale_inv";
    for (const std::string& hfName : folder.names()) {
        const st::SafetensorsFolder::Located loc = folder.find(hfName);
        if (hfName.size() > kScaleSuffix.size() &&
            hfName.compare(hfName.size() - kScaleSuffix.size(), kScaleSuffix.size(), kScaleSuffix) == 0 &&
            folder.find(hfName.substr(0, hfName.size() - kScaleSuffix.size())).tensor)
            continue; // consumed with its FP8 weight below
        WeightEntry e;
        e.fileName = hfName;
        e.name = hfToCanonical(hfName);
        if (e.name.empty()) e.name = hfName;
        e.path = loc.file->path();
        e.shape = loc.tensor->shape;
        e.typeName = st::dtypeName(loc.tensor->dtype);
        e.data = loc.tensor->data;
        e.viewable = true;
        switch (loc.tensor->dtype) {
        case st::Dtype::F32: e.type = ops::WeightType::F32; break;
        case st::Dtype::F16: e.type = ops::WeightType::F16; break;
        case st::Dtype::BF16: e.type = ops::WeightType::BF16; break;
        case st::Dtype::F8E4M3: {
            const st::SafetensorsFolder::Located scale = folder.find(hfName + kScaleSuffix);
            if (!scale.tensor) {
                e.viewable = false;
                break;
            }
            std::vector<float>& buf = src->m_dequantized.emplace_back();
            MOE_TRY(st::dequantizeFp8Blocks(*loc.tensor, *scale.tensor, e.path, buf));
            e.data = buf.data();
            e.type = ops::WeightType::F32;
            e.typeName = "F8_E4M3 (dequantized)";
            break;
        }
        default: e.viewable = false; break;
        }
        const std::string key = e.name;
        if (!src->m_entries.emplace(key, std::move(e)).second)
            return Status(StatusCode::CorruptFile, dir + ": two tensors map to '" + key + "' (" + hfName + ")");
    }
    return src;
}

const WeightEntry* SafetensorsWeightSource::find(std::string_view name) const {
    auto it = m_entries.find(std::string(name));
    return it == m_entries.end() ? nullptr : &it->second;
}

} // namespace moe
