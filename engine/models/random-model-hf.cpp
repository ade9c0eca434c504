// writeRandomModelHf: the random model of writeRandomModel as a Hugging Face folder (config.json,
// generation_config.json, model.safetensors or shards + model.safetensors.index.json). It writes
// the GGUF first and converts it the way convert_hf_to_gguf.py would be undone (§9.8): stacked
// experts split into block_sparse_moe.experts.E.w1/w3/w2, and q/k rows un-permuted from the
// interleaved GGUF layout back to HF's half-rotation layout (§1.3). So the GGUF and the folder
// hold the same function, and loading both must give the same logits (tests/engine/test-hf-folder).
#include "formats/gguf/gguf-reader.h"
#include "formats/safetensors/safetensors-writer.h"
#include "moe/model-factory.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace moe {

namespace {

namespace fs = std::filesystem;

Status writeJson(const std::string& path, const nlohmann::ordered_json& j) {
    const std::string tmp = path + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << j.dump(2) << "\n";
        if (!out.flush()) return Status(StatusCode::IoError, tmp + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        return Status(StatusCode::IoError, path + ": cannot rename from " + tmp);
    return Status::ok();
}

// GGUF name -> HF v4 name for the Mixtral tensors writeRandomModel produces (non-expert ones).
std::string hfName(const std::string& g) {
    if (g == "token_embd.weight") return "model.embed_tokens.weight";
    if (g == "output_norm.weight") return "model.norm.weight";
    if (g == "output.weight") return "lm_head.weight";
    static const std::pair<const char*, const char*> kLayer[] = {
        {"attn_norm.weight", "input_layernorm.weight"},   {"ffn_norm.weight", "post_attention_layernorm.weight"},
        {"attn_q.weight", "self_attn.q_proj.weight"},     {"attn_k.weight", "self_attn.k_proj.weight"},
        {"attn_v.weight", "self_attn.v_proj.weight"},     {"attn_output.weight", "self_attn.o_proj.weight"},
        {"ffn_gate_inp.weight", "block_sparse_moe.gate.weight"},
    };
    int il = -1;
    char rest[64] = {};
    if (std::sscanf(g.c_str(), "blk.%d.%63s", &il, rest) != 2) return {};
    for (const auto& [gg, hf] : kLayer)
        if (std::strcmp(rest, gg) == 0) return "model.layers." + std::to_string(il) + "." + hf;
    return {};
}

struct Piece {
    std::string name;
    st::Dtype dtype;
    std::vector<int64_t> shape;
    const uint8_t* src; // GGUF bytes of the source rows
    int64_t rowBytes;
    int64_t headDim;    // > 0: un-permute rows per head (q/k)
    int layer;          // -1 for global tensors
};

// Copies rows; for q/k, half-layout row (h, i) takes interleaved row (h, 2i) and (h, d/2 + i)
// takes (h, 2i + 1) — the inverse of LlamaModel.permute (§1.3).
Status produce(const Piece& p, std::span<uint8_t> out) {
    const int64_t rows = int64_t(out.size()) / p.rowBytes;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t from = r;
        if (p.headDim > 0) {
            const int64_t h = r / p.headDim, i = r % p.headDim, half = p.headDim / 2;
            from = h * p.headDim + (i < half ? 2 * i : 2 * (i - half) + 1);
        }
        std::memcpy(out.data() + r * p.rowBytes, p.src + from * p.rowBytes, size_t(p.rowBytes));
    }
    return Status::ok();
}

} // namespace

Status writeRandomModelHf(const RandomModelOptions& o, const std::string& dir) {
    if (o.shards < 1 || o.shards > 99)
        return Status(StatusCode::InvalidArgument, "make-model: shards must be 1..99, not " + std::to_string(o.shards));
    if (o.type != "f32" && o.type != "f16" && o.type != "bf16")
        return Status(StatusCode::InvalidArgument,
                      "make-model: an HF folder holds f32, f16 or bf16 weights, not '" + o.type + "'");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(StatusCode::IoError, dir + ": cannot create the folder: " + ec.message());
    const std::string ggufPath = dir + "/.random-model.gguf";
    RandomModelOptions go = o;
    go.format = "gguf";
    MOE_TRY(writeRandomModel(go, ggufPath));
    auto opened = gguf::GgufFile::open(ggufPath);
    fs::remove(ggufPath, ec);
    if (!opened.isOk()) return opened.status();
    const gguf::GgufFile& g = *opened;

    const int64_t nEmbd = g.getInt("llama.embedding_length", 0), nLayer = g.getInt("llama.block_count", 0),
                  nHead = g.getInt("llama.attention.head_count", 0), nHeadKv = g.getInt("llama.attention.head_count_kv", 0),
                  nFf = g.getInt("llama.feed_forward_length", 0), nExpert = g.getInt("llama.expert_count", 0);
    const int64_t headDim = nEmbd / nHead;
    nlohmann::ordered_json config;
    config["architectures"] = {"MixtralForCausalLM"};
    config["model_type"] = "mixtral";
    config["_name_or_path"] = g.getString("general.name", "random mixtral");
    config["vocab_size"] = g.getInt("llama.vocab_size", 0);
    config["hidden_size"] = nEmbd;
    config["intermediate_size"] = nFf;
    config["num_hidden_layers"] = nLayer;
    config["num_attention_heads"] = nHead;
    config["num_key_value_heads"] = nHeadKv;
    config["head_dim"] = headDim;
    config["num_local_experts"] = nExpert;
    config["num_experts_per_tok"] = g.getInt("llama.expert_used_count", 0);
    config["max_position_embeddings"] = g.getInt("llama.context_length", 0);
    config["rms_norm_eps"] = g.getNumber("llama.attention.layer_norm_rms_epsilon", 1e-5);
    config["rope_theta"] = g.getNumber("llama.rope.freq_base", 1e6);
    config["sliding_window"] = nullptr;
    config["bos_token_id"] = g.getInt("tokenizer.ggml.bos_token_id", 1);
    config["eos_token_id"] = g.getInt("tokenizer.ggml.eos_token_id", 2);
    config["tie_word_embeddings"] = g.tensor("output.weight") == nullptr;
    config["torch_dtype"] = o.type == "f32" ? "float32" : o.type == "f16" ? "float16" : "bfloat16";
    MOE_TRY(writeJson(dir + "/config.json", config));
    nlohmann::ordered_json gen;
    gen["bos_token_id"] = config["bos_token_id"];
    gen["eos_token_id"] = config["eos_token_id"];
    MOE_TRY(writeJson(dir + "/generation_config.json", gen));

    std::vector<Piece> pieces;
    for (const gguf::TensorEntry& t : g.tensors()) {
        st::Dtype dt;
        switch (gguf::GgmlType(t.type)) {
        case gguf::GgmlType::F32: dt = st::Dtype::F32; break;
        case gguf::GgmlType::F16: dt = st::Dtype::F16; break;
        case gguf::GgmlType::BF16: dt = st::Dtype::BF16; break;
        default: return Status(StatusCode::Unsupported, g.path() + ": tensor '" + t.name + "' is " + gguf::typeName(t.type));
        }
        const int64_t rowBytes = int64_t(t.ne[0]) * (dt == st::Dtype::F32 ? 4 : 2);
        int layer = -1;
        std::sscanf(t.name.c_str(), "blk.%d.", &layer);
        const uint8_t* data = g.tensorData(t);
        static const std::pair<const char*, const char*> kExperts[] = {
            {"ffn_gate_exps.weight", "w1"}, {"ffn_up_exps.weight", "w3"}, {"ffn_down_exps.weight", "w2"}};
        bool expert = false;
        for (const auto& [suffix, w] : kExperts) {
            const std::string sfx = suffix;
            if (t.name.size() > sfx.size() && t.name.compare(t.name.size() - sfx.size(), sfx.size(), sfx) == 0) {
                expert = true;
                const int64_t rows = int64_t(t.ne[1]), cols = int64_t(t.ne[0]);
                for (int64_t e = 0; e < int64_t(t.ne[2]); ++e)
                    pieces.push_back({"model.layers." + std::to_string(layer) + ".block_sparse_moe.experts." +
                                          std::to_string(e) + "." + w + ".weight",
                                      dt, {rows, cols}, data + e * rows * rowBytes, rowBytes, 0, layer});
            }
        }
        if (expert) continue;
        const std::string name = hfName(t.name);
        if (name.empty()) return Status(StatusCode::Internal, g.path() + ": no HF name for tensor '" + t.name + "'");
        std::vector<int64_t> shape(t.ne.rbegin(), t.ne.rend());
        const bool qk = name.find("self_attn.q_proj") != std::string::npos || name.find("self_attn.k_proj") != std::string::npos;
        pieces.push_back({name, dt, shape, data, rowBytes, qk ? headDim : 0, layer});
    }

    // Shard s holds the layers il with il * shards / nLayer == s; globals go to the first and last.
    std::vector<st::SafetensorsWriter> writers(static_cast<size_t>(o.shards));
    std::vector<std::pair<std::string, std::string>> weightMap;
    auto shardName = [&](int s) {
        if (o.shards == 1) return std::string("model.safetensors");
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", s + 1, o.shards);
        return std::string(buf);
    };
    for (const Piece& p : pieces) {
        int s = p.layer >= 0 ? int(int64_t(p.layer) * o.shards / std::max<int64_t>(1, nLayer))
                             : (p.name == "model.embed_tokens.weight" ? 0 : o.shards - 1);
        MOE_TRY(writers[size_t(s)].addTensor(p.name, p.dtype, p.shape, [p](std::span<uint8_t> out) { return produce(p, out); }));
        weightMap.emplace_back(p.name, shardName(s));
    }
    uint64_t total = 0;
    for (int s = 0; s < o.shards; ++s) {
        writers[size_t(s)].setMetadata("format", "pt");
        MOE_TRY(writers[size_t(s)].write(dir + "/" + shardName(s)));
        total += writers[size_t(s)].dataBytes();
    }
    if (o.shards > 1) MOE_TRY(st::writeSafetensorsIndex(dir + "/model.safetensors.index.json", weightMap, total));
    return Status::ok();
}

} // namespace moe
