// GGUF -> ModelSpec. A small Keys helper reads "<arch>.<suffix>" keys strictly (a key that is
// present with the wrong type or out of range is an error, never silently defaulted) with errors
// naming the file and the key; each architecture is one function listing the keys it uses, with
// llama.cpp's defaults where converters may omit a key (§9.5, §9.6) and llama.cpp's hard-coded
// per-graph router semantics (§9.9) where GGUF stores none.
#include "formats/gguf/gguf-spec.h"

#include <cmath>

namespace moe::gguf {

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 30;
// Per-layer tensor look-ups loop over block_count: a hostile count must not make that a long loop
// (released models have <= 128 layers; llama.cpp allows 512).
constexpr int kMaxLayers = 65536;

class Keys {
public:
    Keys(const GgufFile& f, const TensorLookup& tensors, std::string arch)
        : m_f(f), m_tensors(tensors), m_arch(std::move(arch)) {}

    std::string key(std::string_view suffix) const { return m_arch + "." + std::string(suffix); }
    const std::string& arch() const { return m_arch; }
    const std::string& path() const { return m_f.path(); }
    bool has(std::string_view suffix) const { return m_f.find(key(suffix)) != nullptr; }

    Status bad(const std::string& fullKey, const std::string& what) const {
        return Status(StatusCode::CorruptFile, path() + ": metadata key '" + fullKey + "' " + what);
    }
    Status badTensor(const std::string& name, const std::string& what) const {
        return Status(StatusCode::CorruptFile, path() + ": tensor '" + name + "' " + what);
    }

    // An integer key of any width, in [1, 2^30] (or [0, 2^30] with allowZero).
    Status integerKey(const std::string& k, int& out, bool required, bool allowZero = false) const {
        const MetaValue* v = m_f.find(k);
        if (!v) return required ? bad(k, "is missing (expected an integer)") : Status::ok();
        const std::optional<int64_t> x = v->type == ValueType::Bool ? std::nullopt : v->asInt();
        if (!x)
            return bad(k, std::string("is ") + valueTypeName(v->type) + ", expected an integer");
        if (*x < (allowZero ? 0 : 1) || *x > kMaxDim)
            return bad(k, "= " + std::to_string(*x) + " is out of range");
        out = int(*x);
        return Status::ok();
    }
    Status integer(std::string_view suffix, int& out, bool required, bool allowZero = false) const {
        return integerKey(key(suffix), out, required, allowZero);
    }
    // A finite number (any integer or float type).
    Status numberKey(const std::string& k, float& out, bool required = false) const {
        const MetaValue* v = m_f.find(k);
        if (!v) return required ? bad(k, "is missing (expected a number)") : Status::ok();
        const std::optional<double> x = v->type == ValueType::Bool ? std::nullopt : v->asNumber();
        if (!x) return bad(k, std::string("is ") + valueTypeName(v->type) + ", expected a number");
        if (!std::isfinite(float(*x))) return bad(k, "is not a finite float");
        out = float(*x);
        return Status::ok();
    }
    Status number(std::string_view suffix, float& out, bool required = false) const {
        return numberKey(key(suffix), out, required);
    }
    Status boolean(std::string_view suffix, bool& out) const {
        const std::string k = key(suffix);
        const MetaValue* v = m_f.find(k);
        if (!v) return Status::ok();
        const std::optional<int64_t> x = v->asInt();
        if (!x || *x < 0 || *x > 1)
            return bad(k, std::string("is ") + v->display() + ", expected a bool");
        out = *x != 0;
        return Status::ok();
    }
    Status stringKey(const std::string& k, std::string& out) const {
        const MetaValue* v = m_f.find(k);
        if (!v) return Status::ok();
        if (v->type != ValueType::String)
            return bad(k, std::string("is ") + valueTypeName(v->type) + ", expected a string");
        out = v->s;
        return Status::ok();
    }

    const TensorEntry* tensor(const std::string& name) const { return m_tensors(name); }

private:
    const GgufFile& m_f;
    const TensorLookup& m_tensors;
    std::string m_arch;
};

std::string baseName(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The f32 key holds 0.1 * mscale_all_dim (§9.5); dividing back gives e.g. 0.70699995 for 0.707,
// so the quotient is rounded to 6 significant digits (f32 keeps ~7) to give config.json's value.
float mscaleFromLogMultiplier(float v) {
    const double m = double(v) / 0.1;
    if (m == 0) return 0.0f;
    const double scale = std::pow(10.0, 5 - int(std::floor(std::log10(std::fabs(m)))));
    return float(std::round(m * scale) / scale);
}

// RoPE frequency scaling (§9.5): rope.scaling.* keys, or the older rope.scale_linear.
Status readRopeScaling(const Keys& k, RopeScaling& s) {
    std::string type;
    MOE_TRY(k.stringKey(k.key("rope.scaling.type"), type));
    if (type.empty() && k.has("rope.scale_linear")) {
        type = "linear";
        MOE_TRY(k.number("rope.scale_linear", s.factor));
    }
    s.type = type.empty() ? "none" : type;
    MOE_TRY(k.number("rope.scaling.factor", s.factor));
    MOE_TRY(k.integer("rope.scaling.original_context_length", s.originalContext, false, true));
    MOE_TRY(k.number("rope.scaling.yarn_beta_fast", s.betaFast));
    MOE_TRY(k.number("rope.scaling.yarn_beta_slow", s.betaSlow));
    float logMul = 0.0f;
    MOE_TRY(k.number("rope.scaling.yarn_log_multiplier", logMul));
    // llama.cpp assumes mscale == mscale_all_dim (true for every DeepSeek release, §9.6). A model
    // where they differ carries mscale in MoE Studio's own key (writeGgufSpec), which llama.cpp
    // ignores.
    s.mscale = s.mscaleAllDim = mscaleFromLogMultiplier(logMul);
    MOE_TRY(k.number("rope.scaling.yarn_mscale", s.mscale));
    MOE_TRY(k.number("rope.scaling.attn_factor", s.attentionFactor));
    if (s.type != "none" && s.factor <= 0)
        return k.bad(k.key("rope.scaling.factor"), "must be positive");
    return Status::ok();
}

// Keys every architecture shares (§9.5) and the tensor facts of §1.6: tied embeddings, q bias.
Status readCommon(const Keys& k, const GgufFile& f, ModelSpec& spec) {
    spec.name = f.getString("general.name", baseName(f.path()));
    MOE_TRY(k.integer("embedding_length", spec.nEmbd, true));
    MOE_TRY(k.integer("block_count", spec.nLayer, true));
    if (spec.nLayer > kMaxLayers)
        return k.bad(k.key("block_count"), "= " + std::to_string(spec.nLayer) + " exceeds " +
                                               std::to_string(kMaxLayers) + " layers");
    int nextn = 0; // MTP layers counted in block_count by newer converters (HF excludes them)
    MOE_TRY(k.integer("nextn_predict_layers", nextn, false, true));
    if (nextn >= spec.nLayer)
        return k.bad(k.key("nextn_predict_layers"), "= " + std::to_string(nextn) +
                                                        " leaves no layer of block_count " +
                                                        std::to_string(spec.nLayer));
    spec.nLayer -= nextn;
    MOE_TRY(k.integer("attention.head_count", spec.nHead, true));
    spec.nHeadKv = spec.nHead;
    MOE_TRY(k.integer("attention.head_count_kv", spec.nHeadKv, false));
    MOE_TRY(k.integer("context_length", spec.nCtxTrain, true));
    MOE_TRY(k.number("attention.layer_norm_rms_epsilon", spec.rmsEps, true));
    if (spec.rmsEps <= 0)
        return k.bad(k.key("attention.layer_norm_rms_epsilon"), "must be positive");
    spec.ropeTheta = 10000.0f; // llama.cpp's default when rope.freq_base is absent
    MOE_TRY(k.number("rope.freq_base", spec.ropeTheta));
    if (spec.ropeTheta <= 0) return k.bad(k.key("rope.freq_base"), "must be positive");
    MOE_TRY(readRopeScaling(k, spec.ropeScaling));
    MOE_TRY(k.integer("attention.sliding_window", spec.slidingWindow, false, true));

    // Vocabulary: the arch key, else the token list, else the embedding rows.
    spec.nVocab = 0;
    MOE_TRY(k.integer("vocab_size", spec.nVocab, false));
    if (spec.nVocab == 0) {
        const MetaValue* tokens = f.find("tokenizer.ggml.tokens");
        const TensorEntry* embd = k.tensor("token_embd.weight");
        if (tokens && tokens->type == ValueType::Array && !tokens->items.empty() &&
            tokens->items.size() <= size_t(kMaxDim))
            spec.nVocab = int(tokens->items.size());
        else if (embd && embd->ne.size() == 2 && embd->ne[1] > 0 &&
                 embd->ne[1] <= uint64_t(kMaxDim))
            spec.nVocab = int(embd->ne[1]);
        else
            return k.bad(k.key("vocab_size"), "is missing and neither tokenizer.ggml.tokens nor "
                                              "token_embd.weight gives the vocabulary size");
    }
    int bos = -1, eos = -1;
    const auto tokenId = [&](const char* key, int& out) -> Status {
        if (!f.find(key)) return Status::ok();
        return k.integerKey(key, out, false, true);
    };
    MOE_TRY(tokenId("tokenizer.ggml.bos_token_id", bos));
    MOE_TRY(tokenId("tokenizer.ggml.eos_token_id", eos));
    spec.bosId = bos;
    spec.eosIds.clear();
    if (eos >= 0) spec.eosIds.push_back(eos);

    spec.tieWordEmbeddings = k.tensor("output.weight") == nullptr; // §1.6: absent when tied
    spec.attnBias = k.tensor("blk.0.attn_q.bias") != nullptr;
    return Status::ok();
}

// Head geometry of the non-MLA architectures: key_length (Qwen3 writes head_dim explicitly)
// else embedding_length / head_count; value_length must agree; rope.dimension_count <= head dim.
Status readHeads(const Keys& k, ModelSpec& spec) {
    if (spec.nHead % spec.nHeadKv != 0)
        return k.bad(k.key("attention.head_count_kv"),
                     "= " + std::to_string(spec.nHeadKv) +
                         " does not divide attention.head_count = " + std::to_string(spec.nHead));
    spec.headDim = 0;
    MOE_TRY(k.integer("attention.key_length", spec.headDim, false));
    if (spec.headDim == 0) {
        if (spec.nEmbd % spec.nHead != 0)
            return k.bad(k.key("attention.key_length"),
                         "is missing and embedding_length " + std::to_string(spec.nEmbd) +
                             " is not a multiple of head_count " + std::to_string(spec.nHead));
        spec.headDim = spec.nEmbd / spec.nHead;
    }
    int valueLength = spec.headDim;
    MOE_TRY(k.integer("attention.value_length", valueLength, false));
    if (valueLength != spec.headDim)
        return Status(StatusCode::Unsupported,
                      k.path() + ": metadata key '" + k.key("attention.value_length") +
                          "' = " + std::to_string(valueLength) + " differs from key_length " +
                          std::to_string(spec.headDim) + " (not in " + k.arch() + ")");
    spec.nRot = spec.headDim;
    MOE_TRY(k.integer("rope.dimension_count", spec.nRot, false));
    if (spec.nRot % 2 != 0 || spec.nRot > spec.headDim)
        return k.bad(k.key("rope.dimension_count"),
                     "= " + std::to_string(spec.nRot) +
                         " must be even and at most the head dimension " +
                         std::to_string(spec.headDim));
    return Status::ok();
}

// QK-norm from blk.0.attn_q_norm.weight (§9.7): [headDim] per head (Qwen3), [nHead*headDim] over
// the whole projection (OLMoE). `expected` is the arch's kind ("none" when the arch has none); when
// a shape fits both (one head) the arch's kind wins.
Status readQkNorm(const Keys& k, ModelSpec& spec, const std::string& expected) {
    const std::string qName = "blk.0.attn_q_norm.weight", kName = "blk.0.attn_k_norm.weight";
    const TensorEntry* q = k.tensor(qName);
    if (!q) {
        if (expected != "none")
            return k.badTensor(qName, "is missing (" + k.arch() + " normalizes q and k, QK-norm '" +
                                          expected + "')");
        spec.qkNorm = "none";
        return Status::ok();
    }
    const uint64_t head = uint64_t(spec.headDim), full = uint64_t(spec.nHead) * head;
    if (q->ne.size() != 1 || (q->ne[0] != head && q->ne[0] != full))
        return k.badTensor(qName, "has " + std::to_string(q->ne.size()) + " dims (ne[0] = " +
                                      std::to_string(q->ne.empty() ? 0 : q->ne[0]) +
                                      "), expected [" + std::to_string(head) + "] (per head) or [" +
                                      std::to_string(full) + "] (full width)");
    spec.qkNorm = head == full && expected != "none" ? expected
                  : q->ne[0] == head                 ? "head"
                                                     : "full";
    const TensorEntry* kn = k.tensor(kName);
    const uint64_t kWant = spec.qkNorm == "head" ? head : uint64_t(spec.nHeadKv) * head;
    if (!kn || kn->ne.size() != 1 || kn->ne[0] != kWant)
        return k.badTensor(kName, std::string(kn ? "has the wrong shape" : "is missing") +
                                      ", expected [" + std::to_string(kWant) + "] to match " +
                                      qName);
    return Status::ok();
}

Status readExperts(const Keys& k, ModelSpec& spec) {
    MOE_TRY(k.integer("expert_count", spec.nExpert, true));
    MOE_TRY(k.integer("expert_used_count", spec.nExpertUsed, true));
    if (spec.nExpertUsed > spec.nExpert)
        return k.bad(k.key("expert_used_count"),
                     "= " + std::to_string(spec.nExpertUsed) +
                         " exceeds expert_count = " + std::to_string(spec.nExpert));
    return Status::ok();
}

// Layers without a router but with a dense MLP: Qwen-MoE mlp_only_layers (and sparse steps),
// which GGUF keeps only in its tensors.
void denseLayersFromTensors(const Keys& k, ModelSpec& spec) {
    spec.mlpOnlyLayers.clear();
    for (int il = 0; il < spec.nLayer; ++il) {
        const std::string blk = "blk." + std::to_string(il) + ".";
        if (!k.tensor(blk + "ffn_gate_inp.weight") && k.tensor(blk + "ffn_up.weight"))
            spec.mlpOnlyLayers.push_back(il);
    }
}

// llama: Mixtral (expert_count set, §9.6) or dense Llama; q/k rows permuted to interleaved (§9.8).
Status readLlama(const Keys& k, ModelSpec& spec) {
    spec.ropeInterleaved = true;
    MOE_TRY(readHeads(k, spec));
    MOE_TRY(readQkNorm(k, spec, "none"));
    if (k.tensor("rope_freqs.weight"))
        return Status(StatusCode::Unsupported,
                      k.path() + ": tensor 'rope_freqs.weight' (Llama 3.1 rope frequency "
                                 "factors) is not supported by this build");
    int nExpert = 0;
    MOE_TRY(k.integer("expert_count", nExpert, false, true));
    if (nExpert > 0) {
        spec.family = "gqa-moe";
        MOE_TRY(readExperts(k, spec));
        if (k.has("expert_feed_forward_length"))
            MOE_TRY(k.integer("expert_feed_forward_length", spec.nFf, true));
        else
            MOE_TRY(
                k.integer("feed_forward_length", spec.nFf, true)); // Mixtral: the per-expert size
        spec.normTopkProb = true; // softmax + renormalization (§3, §9.9)
    } else {
        spec.family = "dense";
        MOE_TRY(k.integer("feed_forward_length", spec.nFfDense, true));
    }
    return Status::ok();
}

// qwen2, qwen3: dense, half rotation; Qwen2 carries q/k/v biases, Qwen3 per-head QK-norm.
Status readQwenDense(const Keys& k, ModelSpec& spec, bool qwen3) {
    spec.family = "dense";
    spec.ropeInterleaved = false;
    MOE_TRY(readHeads(k, spec));
    MOE_TRY(readQkNorm(k, spec, qwen3 ? "head" : "none"));
    MOE_TRY(k.integer("feed_forward_length", spec.nFfDense, true));
    return Status::ok();
}

// qwen2moe, qwen3moe, olmoe (§9.6): half rotation; softmax router with the graph's fixed
// normalization unless expert_weights_norm says otherwise.
Status readGqaMoe(const Keys& k, ModelSpec& spec) {
    const std::string& a = k.arch();
    spec.family = "gqa-moe";
    spec.ropeInterleaved = false;
    MOE_TRY(readHeads(k, spec));
    MOE_TRY(readQkNorm(k, spec, a == "qwen3moe" ? "head" : a == "olmoe" ? "full" : "none"));
    MOE_TRY(readExperts(k, spec));
    spec.normTopkProb = a == "qwen3moe";
    MOE_TRY(k.boolean("expert_weights_norm", spec.normTopkProb));
    if (a == "olmoe") {
        // OLMoE's feed_forward_length is the expert size (§6); no dense layers.
        if (k.has("expert_feed_forward_length"))
            MOE_TRY(k.integer("expert_feed_forward_length", spec.nFf, true));
        else
            MOE_TRY(k.integer("feed_forward_length", spec.nFf, true));
        return Status::ok();
    }
    MOE_TRY(k.integer("expert_feed_forward_length", spec.nFf, true));
    MOE_TRY(k.integer("feed_forward_length", spec.nFfDense, false, true));
    denseLayersFromTensors(k, spec);
    if (a == "qwen2moe") {
        MOE_TRY(k.integer("expert_shared_feed_forward_length", spec.nFfShared, false, true));
        // Older files lack the key: the shared expert's width is then its tensor's (§9.7).
        for (int il = 0; il < spec.nLayer && spec.nFfShared == 0; ++il) {
            const std::string name = "blk." + std::to_string(il) + ".ffn_up_shexp.weight";
            const TensorEntry* t = k.tensor(name);
            if (!t) continue;
            if (t->ne.size() != 2 || t->ne[1] == 0 || t->ne[1] > uint64_t(kMaxDim))
                return k.badTensor(name, "is not a [nEmbd, nFfShared] matrix");
            spec.nFfShared = int(t->ne[1]);
        }
        spec.sharedExpertGate = false;
        for (int il = 0; il < spec.nLayer && !spec.sharedExpertGate; ++il)
            spec.sharedExpertGate =
                k.tensor("blk." + std::to_string(il) + ".ffn_gate_inp_shexp.weight") != nullptr;
    }
    return Status::ok();
}

// deepseek2 (§2, §9.6), both forms: MLA (head_count_kv 1, key_length = kv_lora_rank + rope,
// key_length_mla / value_length_mla) and legacy (head_count_kv = head_count, key_length 192,
// value_length 128). Either way the spec is the config.json one: nHeadKv = nHead.
Status readDeepseek2(const Keys& k, ModelSpec& spec) {
    spec.family = "deepseek";
    spec.ropeInterleaved = true; // rope slice in DeepSeek's original layout (§2.4)
    spec.qkNorm = "none";
    MOE_TRY(k.integer("attention.kv_lora_rank", spec.kvLoraRank, true));
    spec.qLoraRank = 0;
    MOE_TRY(k.integer("attention.q_lora_rank", spec.qLoraRank, false, true));
    MOE_TRY(k.integer("rope.dimension_count", spec.qkRopeHeadDim, true));
    int keyLength = 0, valueLength = 0;
    if (k.has("attention.key_length_mla")) {
        if (spec.nHeadKv != 1)
            return k.bad(k.key("attention.head_count_kv"),
                         "= " + std::to_string(spec.nHeadKv) +
                             ", expected 1 in an MLA file (key_length_mla is set)");
        MOE_TRY(k.integer("attention.key_length_mla", keyLength, true));
        MOE_TRY(k.integer("attention.value_length_mla", valueLength, true));
        int latentKey = spec.kvLoraRank + spec.qkRopeHeadDim, latentValue = spec.kvLoraRank;
        MOE_TRY(k.integer("attention.key_length", latentKey, false));
        MOE_TRY(k.integer("attention.value_length", latentValue, false));
        if (latentKey != spec.kvLoraRank + spec.qkRopeHeadDim)
            return k.bad(k.key("attention.key_length"),
                         "= " + std::to_string(latentKey) +
                             ", expected kv_lora_rank + rope.dimension_count = " +
                             std::to_string(spec.kvLoraRank + spec.qkRopeHeadDim));
        if (latentValue != spec.kvLoraRank)
            return k.bad(k.key("attention.value_length"),
                         "= " + std::to_string(latentValue) +
                             ", expected kv_lora_rank = " + std::to_string(spec.kvLoraRank));
    } else {
        if (spec.nHeadKv != spec.nHead)
            return k.bad(k.key("attention.head_count_kv"),
                         "= " + std::to_string(spec.nHeadKv) + ", expected head_count = " +
                             std::to_string(spec.nHead) + " in a file without key_length_mla");
        MOE_TRY(k.integer("attention.key_length", keyLength, true));
        MOE_TRY(k.integer("attention.value_length", valueLength, true));
    }
    const std::string keyName = k.key(k.has("attention.key_length_mla") ? "attention.key_length_mla"
                                                                        : "attention.key_length");
    if (keyLength <= spec.qkRopeHeadDim || spec.qkRopeHeadDim % 2 != 0)
        return k.bad(keyName, "= " + std::to_string(keyLength) +
                                  " must exceed the (even) rope.dimension_count " +
                                  std::to_string(spec.qkRopeHeadDim));
    spec.nHeadKv = spec.nHead; // config.json's num_key_value_heads (§2.1)
    spec.qkNopeHeadDim = keyLength - spec.qkRopeHeadDim;
    spec.vHeadDim = valueLength;
    spec.headDim = keyLength;
    spec.nRot = spec.qkRopeHeadDim;
    spec.attnBias = spec.attnBias || k.tensor("blk.0.attn_kv_a_mqa.bias") != nullptr;

    MOE_TRY(k.integer("feed_forward_length", spec.nFfDense, true));
    MOE_TRY(k.integer("expert_feed_forward_length", spec.nFf, true));
    MOE_TRY(readExperts(k, spec));
    MOE_TRY(k.integer("expert_shared_count", spec.nExpertShared, false, true));
    if (spec.nExpertShared > kMaxDim / spec.nFf)
        return k.bad(k.key("expert_shared_count"),
                     "= " + std::to_string(spec.nExpertShared) + " shared experts of " +
                         std::to_string(spec.nFf) + " overflow the shared-expert width");
    spec.nFfShared = spec.nExpertShared * spec.nFf;
    MOE_TRY(k.integer("leading_dense_block_count", spec.firstKDenseReplace, false, true));
    if (spec.firstKDenseReplace > spec.nLayer)
        return k.bad(k.key("leading_dense_block_count"),
                     "= " + std::to_string(spec.firstKDenseReplace) + " exceeds block_count " +
                         std::to_string(spec.nLayer));
    int gating = 1; // absent in old DeepSeek-V2 files: llama.cpp assumes softmax (§9.5)
    MOE_TRY(k.integer("expert_gating_func", gating, false, true));
    if (gating != 1 && gating != 2)
        return Status(StatusCode::Unsupported,
                      k.path() + ": metadata key '" + k.key("expert_gating_func") + "' = " +
                          std::to_string(gating) + " is not supported (1 softmax, 2 sigmoid)");
    spec.scoringFunc = gating == 2 ? "sigmoid" : "softmax";
    spec.normTopkProb = false;
    MOE_TRY(k.boolean("expert_weights_norm", spec.normTopkProb));
    MOE_TRY(k.number("expert_weights_scale", spec.routedScalingFactor));
    if (spec.routedScalingFactor <= 0)
        return k.bad(k.key("expert_weights_scale"), "must be positive");
    MOE_TRY(k.integer("expert_group_count", spec.nGroup, false));
    MOE_TRY(k.integer("expert_group_used_count", spec.topkGroup, false));
    if (spec.topkGroup > spec.nGroup || spec.nExpert % spec.nGroup != 0)
        return k.bad(k.key("expert_group_used_count"),
                     "/ expert_group_count = " + std::to_string(spec.topkGroup) + " / " +
                         std::to_string(spec.nGroup) + " do not fit " +
                         std::to_string(spec.nExpert) + " experts");
    // topk_method is not stored. A selection bias (exp_probs_b) exists only for noaux_tc (V3);
    // groups without one are V2's group_limited_greedy (the only released method that groups
    // without a bias); otherwise greedy. Files older than the group keys read as greedy (llama.cpp
    // did too).
    const std::string biasName =
        "blk." + std::to_string(spec.firstKDenseReplace) + ".exp_probs_b.bias";
    spec.topkMethod = k.tensor(biasName) ? "noaux_tc"
                      : spec.nGroup > 1  ? "group_limited_greedy"
                                         : "greedy";
    return Status::ok();
}

} // namespace

Status readGgufSpec(const GgufFile& file, const TensorLookup& tensors, ModelSpec& spec) {
    // Built in a fresh spec and moved into place, so a failure leaves spec untouched.
    const MetaValue* archValue = file.find("general.architecture");
    if (!archValue)
        return Status(StatusCode::CorruptFile,
                      file.path() + ": metadata key 'general.architecture' is missing");
    if (archValue->type != ValueType::String)
        return Status(StatusCode::CorruptFile,
                      file.path() + ": metadata key 'general.architecture' is " +
                          valueTypeName(archValue->type) + ", expected a string");
    ModelSpec out;
    out.architecture = archValue->s;
    const Keys k(file, tensors, out.architecture);
    const std::string& a = out.architecture;
    const bool known = a == "llama" || a == "qwen2" || a == "qwen3" || a == "qwen2moe" ||
                       a == "qwen3moe" || a == "olmoe" || a == "deepseek2";
    if (!known)
        return Status(
            StatusCode::Unsupported,
            file.path() + ": general.architecture '" + a +
                "' is not supported (llama, qwen2, qwen3, qwen2moe, qwen3moe, olmoe, deepseek2)");
    MOE_TRY(readCommon(k, file, out));
    if (a == "llama")
        MOE_TRY(readLlama(k, out));
    else if (a == "qwen2" || a == "qwen3")
        MOE_TRY(readQwenDense(k, out, a == "qwen3"));
    else if (a == "deepseek2")
        MOE_TRY(readDeepseek2(k, out));
    else
        MOE_TRY(readGqaMoe(k, out));
    spec = std::move(out);
    return Status::ok();
}

Status readGgufSpec(const GgufFile& file, ModelSpec& spec) {
    return readGgufSpec(
        file, [&file](std::string_view name) { return file.tensor(name); }, spec);
}

void writeGgufSpec(GgufWriter& w, const ModelSpec& s) {
    const std::string a = s.architecture + ".";
    const bool deepseek = s.architecture == "deepseek2";
    const bool moe = s.nExpert > 0;
    w.addUInt32(a + "vocab_size", uint32_t(s.nVocab));
    w.addUInt32(a + "context_length", uint32_t(s.nCtxTrain));
    w.addUInt32(a + "embedding_length", uint32_t(s.nEmbd));
    w.addUInt32(a + "block_count", uint32_t(s.nLayer));
    w.addUInt32(a + "attention.head_count", uint32_t(s.nHead));
    w.addUInt32(a + "attention.head_count_kv", uint32_t(deepseek ? 1 : s.nHeadKv));
    w.addFloat32(a + "rope.freq_base", s.ropeTheta);
    w.addFloat32(a + "attention.layer_norm_rms_epsilon", s.rmsEps);
    w.addUInt32(a + "rope.dimension_count", uint32_t(s.nRot > 0 ? s.nRot : s.headDim));
    if (s.slidingWindow > 0) w.addUInt32(a + "attention.sliding_window", uint32_t(s.slidingWindow));
    if (deepseek) {
        w.addUInt32(a + "attention.key_length", uint32_t(s.kvLoraRank + s.qkRopeHeadDim));
        w.addUInt32(a + "attention.value_length", uint32_t(s.kvLoraRank));
        w.addUInt32(a + "attention.key_length_mla", uint32_t(s.qkNopeHeadDim + s.qkRopeHeadDim));
        w.addUInt32(a + "attention.value_length_mla", uint32_t(s.vHeadDim));
        if (s.qLoraRank > 0) w.addUInt32(a + "attention.q_lora_rank", uint32_t(s.qLoraRank));
        w.addUInt32(a + "attention.kv_lora_rank", uint32_t(s.kvLoraRank));
        w.addUInt32(a + "leading_dense_block_count", uint32_t(s.firstKDenseReplace));
        w.addUInt32(a + "feed_forward_length", uint32_t(s.nFfDense));
        w.addUInt32(a + "expert_feed_forward_length", uint32_t(s.nFf));
        w.addUInt32(a + "expert_shared_count", uint32_t(s.nExpertShared));
        w.addFloat32(a + "expert_weights_scale", s.routedScalingFactor);
        w.addUInt32(a + "expert_gating_func", s.scoringFunc == "sigmoid" ? 2u : 1u);
        w.addUInt32(a + "expert_group_count", uint32_t(s.nGroup));
        w.addUInt32(a + "expert_group_used_count", uint32_t(s.topkGroup));
    } else {
        w.addUInt32(a + "attention.key_length", uint32_t(s.headDim));
        w.addUInt32(a + "attention.value_length", uint32_t(s.headDim));
        if (s.architecture == "qwen2moe" || s.architecture == "qwen3moe") {
            if (s.nFfDense > 0) w.addUInt32(a + "feed_forward_length", uint32_t(s.nFfDense));
            w.addUInt32(a + "expert_feed_forward_length", uint32_t(s.nFf));
            if (s.nFfShared > 0)
                w.addUInt32(a + "expert_shared_feed_forward_length", uint32_t(s.nFfShared));
        } else {
            // llama (Mixtral: the expert size), olmoe (the expert size), dense llama/qwen2/qwen3.
            w.addUInt32(a + "feed_forward_length", uint32_t(s.nFf > 0 ? s.nFf : s.nFfDense));
        }
    }
    if (moe) {
        w.addUInt32(a + "expert_count", uint32_t(s.nExpert));
        w.addUInt32(a + "expert_used_count", uint32_t(s.nExpertUsed));
        // llama-arch MoE always renormalizes; the other archs carry the config's flag (§9.5).
        if (s.architecture != "llama") w.addBool(a + "expert_weights_norm", s.normTopkProb);
    }
    const RopeScaling& r = s.ropeScaling;
    if (r.type != "none") {
        w.addString(a + "rope.scaling.type", r.type);
        w.addFloat32(a + "rope.scaling.factor", r.factor);
        w.addUInt32(a + "rope.scaling.original_context_length",
                    uint32_t(r.originalContext > 0 ? r.originalContext : s.nCtxTrain));
        if (r.type == "yarn") {
            w.addFloat32(a + "rope.scaling.yarn_beta_fast", r.betaFast);
            w.addFloat32(a + "rope.scaling.yarn_beta_slow", r.betaSlow);
            // DeepSeek: 0.1 * mscale_all_dim (llama.cpp divides by 0.1 on load, §9.5).
            if (deepseek) {
                w.addFloat32(a + "rope.scaling.yarn_log_multiplier", 0.1f * r.mscaleAllDim);
                // GGUF has no key for an mscale other than mscale_all_dim; without this one the
                // file would silently be another model (the attention factor differs).
                if (r.mscale != r.mscaleAllDim) w.addFloat32(a + "rope.scaling.yarn_mscale", r.mscale);
            }
        }
    }
}

} // namespace moe::gguf
