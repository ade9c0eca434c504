// config.json reading. A small Fields helper reads typed keys with defaults and errors naming
// the file and key; each architecture is one function listing the keys it uses, with the
// transformers class defaults where the Hub's config files may omit a key (§1.1: OLMoE eps).
#include "formats/hf/hf-config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace moe::hf {

namespace {

using nlohmann::json;

Status readText(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::NotFound, path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return Status::ok();
}

class Fields {
public:
    Fields(const json& j, std::string path) : m_j(j), m_path(std::move(path)) {}

    bool has(const char* key) const { return m_j.contains(key) && !m_j.at(key).is_null(); }

    Status bad(const std::string& key, const std::string& expected) const {
        return Status(StatusCode::CorruptFile, m_path + ": '" + key + "' " + expected);
    }

    // A positive (or, with allowZero, non-negative) integer below 2^30.
    Status integer(const char* key, int& out, bool required, bool allowZero = false) const {
        if (!has(key)) return required ? bad(key, "is missing (expected an integer)") : Status::ok();
        const json& v = m_j.at(key);
        if (!v.is_number_integer()) return bad(key, "is " + v.dump() + ", expected an integer");
        const int64_t x = v.get<int64_t>();
        if (x < (allowZero ? 0 : 1) || x > (int64_t(1) << 30))
            return bad(key, "= " + std::to_string(x) + " is out of range");
        out = int(x);
        return Status::ok();
    }
    Status number(const char* key, float& out, bool required = false) const {
        if (!has(key)) return required ? bad(key, "is missing (expected a number)") : Status::ok();
        const json& v = m_j.at(key);
        if (!v.is_number()) return bad(key, "is " + v.dump() + ", expected a number");
        out = v.get<float>();
        if (!std::isfinite(out)) return bad(key, "is not finite");
        return Status::ok();
    }
    Status boolean(const char* key, bool& out) const {
        if (!has(key)) return Status::ok();
        const json& v = m_j.at(key);
        if (!v.is_boolean()) return bad(key, "is " + v.dump() + ", expected true or false");
        out = v.get<bool>();
        return Status::ok();
    }
    Status string(const char* key, std::string& out) const {
        if (!has(key)) return Status::ok();
        const json& v = m_j.at(key);
        if (!v.is_string()) return bad(key, "is " + v.dump() + ", expected a string");
        out = v.get<std::string>();
        return Status::ok();
    }
    // An id or a list of ids (eos_token_id may be either).
    Status ids(const char* key, std::vector<int>& out) const {
        if (!has(key)) return Status::ok();
        const json& v = m_j.at(key);
        std::vector<int> r;
        auto one = [&](const json& x) {
            if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX) return false;
            r.push_back(int(x.get<int64_t>()));
            return true;
        };
        if (v.is_array()) {
            for (const json& x : v)
                if (!one(x)) return bad(key, "= " + v.dump() + " is not a list of token ids");
        } else if (!one(v)) {
            return bad(key, "= " + v.dump() + " is not a token id");
        }
        out = std::move(r);
        return Status::ok();
    }
    Status intList(const char* key, std::vector<int>& out) const {
        if (!has(key)) return Status::ok();
        const json& v = m_j.at(key);
        if (!v.is_array()) return bad(key, "is " + v.dump() + ", expected a list of integers");
        out.clear();
        for (const json& x : v) {
            if (!x.is_number_integer()) return bad(key, "is " + v.dump() + ", expected a list of integers");
            out.push_back(int(x.get<int64_t>()));
        }
        return Status::ok();
    }

    const json& raw() const { return m_j; }
    const std::string& path() const { return m_path; }

private:
    const json& m_j;
    std::string m_path;
};

// rope_theta + rope_scaling (transformers 4) or rope_parameters (transformers 5, §0): both into
// spec.ropeTheta and spec.ropeScaling. "default" rope_type means no scaling.
Status readRope(const Fields& f, ModelSpec& spec) {
    MOE_TRY(f.number("rope_theta", spec.ropeTheta));
    const char* key = f.has("rope_parameters") ? "rope_parameters" : f.has("rope_scaling") ? "rope_scaling" : nullptr;
    if (!key) return Status::ok();
    const json& r = f.raw().at(key);
    if (!r.is_object()) return f.bad(key, "is " + r.dump() + ", expected an object");
    const Fields rf(r, f.path() + " " + key);
    if (std::string(key) == "rope_parameters") MOE_TRY(rf.number("rope_theta", spec.ropeTheta));
    RopeScaling& s = spec.ropeScaling;
    std::string type;
    MOE_TRY(rf.string("rope_type", type));
    if (type.empty()) MOE_TRY(rf.string("type", type));
    s.type = type.empty() || type == "default" ? "none" : type;
    MOE_TRY(rf.number("factor", s.factor));
    MOE_TRY(rf.integer("original_max_position_embeddings", s.originalContext, false));
    MOE_TRY(rf.number("beta_fast", s.betaFast));
    MOE_TRY(rf.number("beta_slow", s.betaSlow));
    MOE_TRY(rf.number("mscale", s.mscale));
    MOE_TRY(rf.number("mscale_all_dim", s.mscaleAllDim));
    MOE_TRY(rf.number("attention_factor", s.attentionFactor));
    if (s.type != "none" && s.factor <= 0) return rf.bad("factor", "must be positive");
    return Status::ok();
}

// Keys every covered architecture shares (§1.6).
Status readCommon(const Fields& f, ModelSpec& spec, float defaultEps) {
    MOE_TRY(f.integer("vocab_size", spec.nVocab, true));
    MOE_TRY(f.integer("hidden_size", spec.nEmbd, true));
    MOE_TRY(f.integer("num_hidden_layers", spec.nLayer, true));
    MOE_TRY(f.integer("num_attention_heads", spec.nHead, true));
    spec.nHeadKv = spec.nHead;
    MOE_TRY(f.integer("num_key_value_heads", spec.nHeadKv, false));
    spec.nCtxTrain = 4096;
    MOE_TRY(f.integer("max_position_embeddings", spec.nCtxTrain, false));
    spec.rmsEps = defaultEps;
    MOE_TRY(f.number("rms_norm_eps", spec.rmsEps));
    if (spec.rmsEps <= 0) return f.bad("rms_norm_eps", "must be positive");
    MOE_TRY(readRope(f, spec));
    MOE_TRY(f.boolean("tie_word_embeddings", spec.tieWordEmbeddings));
    MOE_TRY(f.ids("eos_token_id", spec.eosIds));
    std::vector<int> bos;
    MOE_TRY(f.ids("bos_token_id", bos));
    if (bos.size() > 1) return f.bad("bos_token_id", "is a list; expected one id");
    spec.bosId = bos.empty() ? -1 : bos[0];
    spec.headDim = spec.nEmbd / spec.nHead;
    MOE_TRY(f.integer("head_dim", spec.headDim, false));
    if (spec.nHead % spec.nHeadKv != 0)
        return f.bad("num_key_value_heads", "= " + std::to_string(spec.nHeadKv) +
                                                " does not divide num_attention_heads = " + std::to_string(spec.nHead));
    return Status::ok();
}

Status experts(const Fields& f, ModelSpec& spec, const char* countKey) {
    MOE_TRY(f.integer(countKey, spec.nExpert, true));
    MOE_TRY(f.integer("num_experts_per_tok", spec.nExpertUsed, true));
    if (spec.nExpertUsed > spec.nExpert)
        return f.bad("num_experts_per_tok", "= " + std::to_string(spec.nExpertUsed) + " exceeds " + countKey +
                                                " = " + std::to_string(spec.nExpert));
    return Status::ok();
}

Status readMixtral(const Fields& f, ModelSpec& spec) {
    spec.architecture = "llama";
    spec.family = "gqa-moe";
    spec.ropeTheta = 1e6f; // MixtralConfig default
    MOE_TRY(readCommon(f, spec, 1e-5f));
    MOE_TRY(f.integer("intermediate_size", spec.nFf, true));
    MOE_TRY(experts(f, spec, "num_local_experts"));
    spec.normTopkProb = true; // always renormalized (§3)
    MOE_TRY(f.integer("sliding_window", spec.slidingWindow, false, true)); // null in released Mixtral configs
    return Status::ok();
}

Status readQwenMoe(const Fields& f, ModelSpec& spec, bool qwen3) {
    spec.architecture = qwen3 ? "qwen3moe" : "qwen2moe";
    spec.family = "gqa-moe";
    MOE_TRY(readCommon(f, spec, 1e-6f));
    MOE_TRY(f.integer("moe_intermediate_size", spec.nFf, true));
    MOE_TRY(f.integer("intermediate_size", spec.nFfDense, false));
    // The Hub's configs say num_experts; transformers 5 writes Qwen3-MoE's as num_local_experts.
    MOE_TRY(experts(f, spec, !f.has("num_experts") && f.has("num_local_experts") ? "num_local_experts" : "num_experts"));
    spec.normTopkProb = false; // class default; released Qwen3-MoE configs set true
    MOE_TRY(f.boolean("norm_topk_prob", spec.normTopkProb));
    MOE_TRY(f.integer("decoder_sparse_step", spec.decoderSparseStep, false));
    MOE_TRY(f.intList("mlp_only_layers", spec.mlpOnlyLayers));
    if (qwen3) {
        spec.qkNorm = "head";
        MOE_TRY(f.boolean("attention_bias", spec.attnBias));
    } else {
        spec.attnBias = true; // Qwen2-MoE q/k/v always carry biases (§4)
        MOE_TRY(f.boolean("qkv_bias", spec.attnBias));
        MOE_TRY(f.integer("shared_expert_intermediate_size", spec.nFfShared, false, true));
        spec.sharedExpertGate = spec.nFfShared > 0;
    }
    return Status::ok();
}

Status readOlmoe(const Fields& f, ModelSpec& spec) {
    spec.architecture = "olmoe";
    spec.family = "gqa-moe";
    MOE_TRY(readCommon(f, spec, 1e-5f)); // OlmoeRMSNorm default; 0924 config omits the key (§1.1)
    MOE_TRY(f.integer("intermediate_size", spec.nFf, true)); // the per-expert size (§6)
    MOE_TRY(experts(f, spec, "num_experts"));
    spec.normTopkProb = false;
    MOE_TRY(f.boolean("norm_topk_prob", spec.normTopkProb));
    MOE_TRY(f.boolean("attention_bias", spec.attnBias));
    spec.qkNorm = "full";
    return Status::ok();
}

// Dense baselines (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM): every layer a
// SwiGLU MLP of intermediate_size; Qwen2 q/k/v always carry biases, Qwen3 has per-head QK-norm.
Status readDense(const Fields& f, ModelSpec& spec, const std::string& arch) {
    spec.architecture = arch;
    spec.family = "dense";
    MOE_TRY(readCommon(f, spec, 1e-6f)); // LlamaConfig, Qwen2Config, Qwen3Config default eps
    MOE_TRY(f.integer("intermediate_size", spec.nFfDense, true));
    spec.attnBias = arch == "qwen2";
    if (arch != "qwen2") MOE_TRY(f.boolean("attention_bias", spec.attnBias));
    if (arch == "qwen3") spec.qkNorm = "head";
    return Status::ok();
}

Status readDeepseek(const Fields& f, ModelSpec& spec, bool v3) {
    spec.architecture = "deepseek2";
    spec.family = "deepseek";
    MOE_TRY(readCommon(f, spec, 1e-6f));
    MOE_TRY(f.integer("q_lora_rank", spec.qLoraRank, false)); // null in V2-Lite: plain q_proj
    MOE_TRY(f.integer("kv_lora_rank", spec.kvLoraRank, true));
    MOE_TRY(f.integer("qk_nope_head_dim", spec.qkNopeHeadDim, true));
    MOE_TRY(f.integer("qk_rope_head_dim", spec.qkRopeHeadDim, true));
    MOE_TRY(f.integer("v_head_dim", spec.vHeadDim, true));
    spec.headDim = spec.qkNopeHeadDim + spec.qkRopeHeadDim;
    spec.nRot = spec.qkRopeHeadDim;
    spec.ropeInterleaved = true; // rope slice in the original DeepSeek layout (§2.4)
    MOE_TRY(f.integer("intermediate_size", spec.nFfDense, true));
    MOE_TRY(f.integer("moe_intermediate_size", spec.nFf, true));
    MOE_TRY(experts(f, spec, "n_routed_experts"));
    MOE_TRY(f.integer("n_shared_experts", spec.nExpertShared, false, true));
    if (int64_t(spec.nExpertShared) * spec.nFf > (int64_t(1) << 30))
        return f.bad("n_shared_experts", "x moe_intermediate_size is out of range");
    spec.nFfShared = spec.nExpertShared * spec.nFf;
    MOE_TRY(f.integer("first_k_dense_replace", spec.firstKDenseReplace, false, true));
    spec.scoringFunc = v3 ? "sigmoid" : "softmax";
    MOE_TRY(f.string("scoring_func", spec.scoringFunc));
    if (spec.scoringFunc != "softmax" && spec.scoringFunc != "sigmoid")
        return f.bad("scoring_func", "= '" + spec.scoringFunc + "', expected softmax or sigmoid");
    spec.topkMethod = v3 ? "noaux_tc" : "greedy";
    MOE_TRY(f.string("topk_method", spec.topkMethod));
    spec.normTopkProb = false;
    MOE_TRY(f.boolean("norm_topk_prob", spec.normTopkProb));
    MOE_TRY(f.number("routed_scaling_factor", spec.routedScalingFactor));
    MOE_TRY(f.integer("n_group", spec.nGroup, false));
    MOE_TRY(f.integer("topk_group", spec.topkGroup, false));
    if (spec.topkGroup > spec.nGroup || spec.nExpert % spec.nGroup != 0)
        return f.bad("topk_group", "/ n_group = " + std::to_string(spec.topkGroup) + " / " +
                                       std::to_string(spec.nGroup) + " do not fit " + std::to_string(spec.nExpert) +
                                       " experts");
    MOE_TRY(f.boolean("attention_bias", spec.attnBias));
    return Status::ok();
}

} // namespace

Status readConfigText(const std::string& text, const std::string& path, ModelSpec& spec) {
    // Built in a fresh spec and moved into place, so a failure leaves spec untouched.
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return Status(StatusCode::CorruptFile, path + ": not valid JSON");
    if (!j.is_object()) return Status(StatusCode::CorruptFile, path + ": not a JSON object");
    const Fields f(j, path);
    std::string arch;
    if (f.has("architectures")) {
        const json& a = j.at("architectures");
        if (!a.is_array() || a.empty() || !a[0].is_string())
            return f.bad("architectures", "is " + a.dump() + ", expected a list of class names");
        arch = a[0].get<std::string>();
    }
    std::string modelType;
    MOE_TRY(f.string("model_type", modelType));
    ModelSpec out;
    out.ropeInterleaved = false; // HF checkpoints: half rotation (§1.3)
    MOE_TRY(f.string("_name_or_path", out.name));
    Status st;
    if (arch == "MixtralForCausalLM" || (arch.empty() && modelType == "mixtral")) st = readMixtral(f, out);
    else if (arch == "Qwen2MoeForCausalLM" || (arch.empty() && modelType == "qwen2_moe")) st = readQwenMoe(f, out, false);
    else if (arch == "Qwen3MoeForCausalLM" || (arch.empty() && modelType == "qwen3_moe")) st = readQwenMoe(f, out, true);
    else if (arch == "OlmoeForCausalLM" || (arch.empty() && modelType == "olmoe")) st = readOlmoe(f, out);
    else if (arch == "DeepseekV2ForCausalLM" || (arch.empty() && modelType == "deepseek_v2")) st = readDeepseek(f, out, false);
    else if (arch == "DeepseekV3ForCausalLM" || (arch.empty() && modelType == "deepseek_v3")) st = readDeepseek(f, out, true);
    else if (arch == "LlamaForCausalLM" || (arch.empty() && modelType == "llama")) st = readDense(f, out, "llama");
    else if (arch == "Qwen2ForCausalLM" || (arch.empty() && modelType == "qwen2")) st = readDense(f, out, "qwen2");
    else if (arch == "Qwen3ForCausalLM" || (arch.empty() && modelType == "qwen3")) st = readDense(f, out, "qwen3");
    else
        return Status(StatusCode::Unsupported,
                      path + ": architecture '" + (arch.empty() ? modelType : arch) +
                          "' is not supported (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, DeepSeek-V2/V3; dense "
                          "Llama, Qwen2, Qwen3)");
    MOE_TRY(st);
    if (out.nRot == 0) out.nRot = out.headDim;
    float partial = 1.0f;
    MOE_TRY(f.number("partial_rotary_factor", partial));
    if (partial > 0 && partial < 1) out.nRot = int(float(out.headDim) * partial);
    if (out.nRot % 2 != 0 || out.nRot > out.headDim)
        return Status(StatusCode::CorruptFile, path + ": rotary dimension " + std::to_string(out.nRot) +
                                                   " must be even and at most the head dimension " +
                                                   std::to_string(out.headDim));
    spec = std::move(out);
    return Status::ok();
}

Status readConfig(const std::string& path, ModelSpec& spec) {
    std::string text;
    MOE_TRY(readText(path, text));
    return readConfigText(text, path, spec);
}

Status readGenerationConfig(const std::string& path, ModelSpec& spec) {
    std::string text;
    MOE_TRY(readText(path, text));
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status(StatusCode::CorruptFile, path + ": not a JSON object");
    const Fields f(j, path);
    GenerationDefaults g;
    g.present = true;
    MOE_TRY(f.boolean("do_sample", g.doSample));
    MOE_TRY(f.number("temperature", g.temperature));
    MOE_TRY(f.integer("top_k", g.topK, false, true));
    MOE_TRY(f.number("top_p", g.topP));
    MOE_TRY(f.number("repetition_penalty", g.repetitionPenalty));
    MOE_TRY(f.integer("max_new_tokens", g.maxNewTokens, false));
    std::vector<int> eos, bos;
    MOE_TRY(f.ids("eos_token_id", eos));
    MOE_TRY(f.ids("bos_token_id", bos));
    if (bos.size() > 1) return f.bad("bos_token_id", "is a list; expected one id");
    if (!eos.empty()) spec.eosIds = eos;
    if (!bos.empty()) spec.bosId = bos[0];
    spec.generation = g;
    return Status::ok();
}

Result<std::string> readChatTemplate(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string jinjaPath = dir + "/chat_template.jinja";
    if (fs::exists(jinjaPath, ec)) {
        std::ifstream in(jinjaPath, std::ios::binary);
        if (!in) return Status(StatusCode::IoError, jinjaPath + ": cannot read");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    const std::string configPath = dir + "/tokenizer_config.json";
    if (!fs::exists(configPath, ec)) return std::string();
    std::ifstream in(configPath, std::ios::binary);
    if (!in) return Status(StatusCode::IoError, configPath + ": cannot read");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Status(StatusCode::CorruptFile, configPath + ": not a JSON object");
    auto it = j.find("chat_template");
    if (it == j.end() || it->is_null()) return std::string();
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
        std::string first;
        for (const auto& entry : *it) {
            if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string())
                return Status(StatusCode::CorruptFile,
                              configPath + ": chat_template list entries need a \"template\" string");
            const std::string name = entry.value("name", "");
            if (name == "default") return entry["template"].get<std::string>();
            if (first.empty()) first = entry["template"].get<std::string>();
        }
        return first;
    }
    return Status(StatusCode::CorruptFile, configPath + ": chat_template is neither a string nor a list");
}

} // namespace moe::hf
