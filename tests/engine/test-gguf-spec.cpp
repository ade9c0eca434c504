// GGUF metadata -> ModelSpec for every architecture (formats/gguf/gguf-spec.h): a small GGUF per
// model, with the keys convert_hf_to_gguf.py writes (model-formats.md §9.5, §9.6) and the tensors
// whose presence or shape matters (biases, QK-norm, output, shared-expert gate, exp_probs_b,
// attn_k_b/attn_v_b or attn_kv_b), must give the same ModelSpec as hf::readConfigText on the
// config.json of that model. Goldens: the config.json texts below are the published configs of
// §2.1 (DeepSeek-V2-Lite, V2, V3), §3 (Mixtral-8x7B), §4 (Qwen1.5-MoE-A2.7B), §5 (Qwen3-30B-A3B),
// §6 (OLMoE-1B-7B) and of Llama-3-8B, Qwen2-0.5B and Qwen3-0.6B, scaled down (sizes only; every key
// and flag kept), and the GGUF keys are what the converter derives from them per §9.6; the one
// expected difference is the llama-arch rope layout (§1.3). Error cases: each must name the file
// and the key or tensor at fault.
#include "formats/gguf/gguf-spec.h"
#include "formats/gguf/gguf-writer.h"
#include "formats/hf/hf-config.h"

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <map>
#include <sstream>

using namespace moe;
using gguf::MetaValue;
using gguf::ValueType;

namespace {

// The keys and tensors of one GGUF, editable before writing (tensors are F32 zeros).
struct Sketch {
    std::vector<std::pair<std::string, MetaValue>> kv;
    std::vector<std::pair<std::string, std::vector<uint64_t>>> tensors;

    void set(const std::string& key, MetaValue v) {
        for (auto& [k, old] : kv)
            if (k == key) {
                old = std::move(v);
                return;
            }
        kv.emplace_back(key, std::move(v));
    }
    void u32(const std::string& key, uint64_t v) {
        MetaValue m;
        m.type = ValueType::UInt32;
        m.u = v;
        set(key, m);
    }
    void f32(const std::string& key, double v) {
        MetaValue m;
        m.type = ValueType::Float32;
        m.f = float(v);
        set(key, m);
    }
    void str(const std::string& key, const std::string& v) {
        MetaValue m;
        m.type = ValueType::String;
        m.s = v;
        set(key, m);
    }
    void boolean(const std::string& key, bool v) {
        MetaValue m;
        m.type = ValueType::Bool;
        m.u = v;
        set(key, m);
    }
    void drop(const std::string& key) {
        std::erase_if(kv, [&](const auto& e) { return e.first == key; });
        std::erase_if(tensors, [&](const auto& e) { return e.first == key; });
    }
    void tensor(const std::string& name, std::vector<uint64_t> ne) {
        tensors.emplace_back(name, std::move(ne));
    }

    Status write(const std::string& path) const {
        gguf::GgufWriter w;
        for (const auto& [k, v] : kv)
            w.addValue(k, v);
        for (const auto& [name, ne] : tensors)
            MOE_TRY(w.addTensor(name, ne, gguf::GgmlType::F32, [](std::span<uint8_t> out) {
                std::fill(out.begin(), out.end(), uint8_t(0));
                return Status::ok();
            }));
        return w.write(path);
    }
};

// Keys every converted file has (§9.5) for an architecture `a`.
Sketch common(const std::string& a, const std::string& name, int vocab, int embd, int layers,
              int heads, int headsKv, int ctx, double eps, double theta) {
    Sketch s;
    s.str("general.architecture", a);
    s.str("general.name", name);
    s.u32(a + ".vocab_size", vocab);
    s.u32(a + ".context_length", ctx);
    s.u32(a + ".embedding_length", embd);
    s.u32(a + ".block_count", layers);
    s.u32(a + ".attention.head_count", heads);
    s.u32(a + ".attention.head_count_kv", headsKv);
    s.f32(a + ".attention.layer_norm_rms_epsilon", eps);
    s.f32(a + ".rope.freq_base", theta);
    s.tensor("token_embd.weight", {uint64_t(embd), uint64_t(vocab)});
    return s;
}

struct Case {
    std::string config; // config.json text
    Sketch gguf;
};

// DeepSeek-V2-Lite, scaled: H 64, 3 layers (1 dense), 4 heads, kv_lora 32, nope/rope/v 16/8/16.
const char* kV2LiteConfig =
    R"({"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
  "_name_or_path": "tiny-v2-lite", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 160,
  "moe_intermediate_size": 24, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 4,
  "n_shared_experts": 2, "n_routed_experts": 8, "num_experts_per_tok": 2, "routed_scaling_factor": 1.0,
  "kv_lora_rank": 32, "q_lora_rank": null, "qk_rope_head_dim": 8, "v_head_dim": 16, "qk_nope_head_dim": 16,
  "topk_method": "greedy", "n_group": 1, "topk_group": 1, "first_k_dense_replace": 1, "moe_layer_freq": 1,
  "norm_topk_prob": false, "scoring_func": "softmax", "aux_loss_alpha": 0.001, "seq_aux": true,
  "max_position_embeddings": 163840, "rms_norm_eps": 1e-06, "rope_theta": 10000, "attention_bias": false,
  "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
    "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
  "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";

// The deepseek2 keys of §9.6 for the configs above; mla: current form, else legacy.
Sketch deepseek(const std::string& name, int layers, bool mla, int qLora, double logMul) {
    const std::string a = "deepseek2";
    Sketch s = common(a, name, 320, 64, layers, 4, mla ? 1 : 4, 163840, 1e-6, 10000);
    if (qLora > 0) s.u32(a + ".attention.q_lora_rank", qLora);
    s.u32(a + ".attention.kv_lora_rank", 32);
    if (mla) {
        s.u32(a + ".attention.key_length", 32 + 8);
        s.u32(a + ".attention.value_length", 32);
        s.u32(a + ".attention.key_length_mla", 16 + 8);
        s.u32(a + ".attention.value_length_mla", 16);
    } else {
        s.u32(a + ".attention.key_length", 16 + 8);
        s.u32(a + ".attention.value_length", 16);
    }
    s.u32(a + ".rope.dimension_count", 8);
    s.u32(a + ".leading_dense_block_count", 1);
    s.u32(a + ".feed_forward_length", 160);
    s.u32(a + ".expert_feed_forward_length", 24);
    s.u32(a + ".expert_count", 8);
    s.u32(a + ".expert_used_count", 2);
    s.u32(a + ".expert_shared_count", 2);
    s.f32(a + ".expert_weights_scale", 1.0);
    s.str(a + ".rope.scaling.type", "yarn");
    s.f32(a + ".rope.scaling.factor", 40);
    s.u32(a + ".rope.scaling.original_context_length", 4096);
    s.f32(a + ".rope.scaling.yarn_log_multiplier", logMul);
    s.u32("tokenizer.ggml.bos_token_id", 0);
    s.u32("tokenizer.ggml.eos_token_id", 1);
    s.tensor("output.weight", {64, 320});
    if (mla) {
        s.tensor("blk.1.attn_k_b.weight", {16, 32, 4});
        s.tensor("blk.1.attn_v_b.weight", {32, 16, 4});
    } else {
        s.tensor("blk.1.attn_kv_b.weight", {32, 4 * (16 + 16)});
    }
    return s;
}

std::map<std::string, Case> cases() {
    std::map<std::string, Case> c;
    {
        Sketch s = common("llama", "tiny-mixtral", 320, 64, 2, 4, 2, 32768, 1e-5, 1e6);
        s.u32("llama.feed_forward_length", 96);
        s.u32("llama.rope.dimension_count", 16);
        s.u32("llama.expert_count", 4);
        s.u32("llama.expert_used_count", 2);
        s.u32("tokenizer.ggml.bos_token_id", 1);
        s.u32("tokenizer.ggml.eos_token_id", 2);
        s.tensor("output.weight", {64, 320});
        c["mixtral"] = {R"({"architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
          "_name_or_path": "tiny-mixtral", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4,
          "num_experts_per_tok": 2, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
          "max_position_embeddings": 32768, "sliding_window": null, "router_aux_loss_coef": 0.02,
          "router_jitter_noise": 0.0, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": false})",
                        s};
    }
    {
        Sketch s = common("llama", "tiny-llama3", 384, 64, 2, 4, 2, 8192, 1e-5, 500000);
        s.u32("llama.feed_forward_length", 224);
        s.u32("llama.rope.dimension_count", 16);
        s.u32("tokenizer.ggml.bos_token_id", 380);
        s.u32("tokenizer.ggml.eos_token_id", 381);
        s.tensor("output.weight", {64, 384});
        c["llama dense"] = {R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
          "_name_or_path": "tiny-llama3", "vocab_size": 384, "hidden_size": 64, "intermediate_size": 224,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
          "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "rope_scaling": null,
          "attention_bias": false, "mlp_bias": false, "bos_token_id": 380, "eos_token_id": 381,
          "tie_word_embeddings": false})",
                            s};
    }
    {
        // Qwen2-0.5B ties its embeddings: no output.weight.
        Sketch s = common("qwen2", "tiny-qwen2", 352, 64, 2, 4, 2, 32768, 1e-6, 1e6);
        s.u32("qwen2.feed_forward_length", 160);
        s.u32("tokenizer.ggml.bos_token_id", 340);
        s.u32("tokenizer.ggml.eos_token_id", 341);
        s.tensor("blk.0.attn_q.bias", {64});
        c["qwen2 dense tied"] = {R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
          "_name_or_path": "tiny-qwen2", "vocab_size": 352, "hidden_size": 64, "intermediate_size": 160,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32768,
          "max_window_layers": 24, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768,
          "use_sliding_window": false, "bos_token_id": 340, "eos_token_id": 341, "tie_word_embeddings": true})",
                                 s};
    }
    {
        // Qwen3-0.6B: head_dim 32 with 4 heads over H 64 (nh * d != H), per-head QK-norm, tied.
        Sketch s = common("qwen3", "tiny-qwen3", 352, 64, 2, 4, 2, 40960, 1e-6, 1e6);
        s.u32("qwen3.feed_forward_length", 192);
        s.u32("qwen3.attention.key_length", 32);
        s.u32("qwen3.attention.value_length", 32);
        s.u32("tokenizer.ggml.bos_token_id", 340);
        s.u32("tokenizer.ggml.eos_token_id", 341);
        s.tensor("blk.0.attn_q_norm.weight", {32});
        s.tensor("blk.0.attn_k_norm.weight", {32});
        c["qwen3 dense"] = {R"({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
          "_name_or_path": "tiny-qwen3", "vocab_size": 352, "hidden_size": 64, "intermediate_size": 192,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
          "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000, "rope_scaling": null,
          "attention_bias": false, "bos_token_id": 340, "eos_token_id": 341, "tie_word_embeddings": true})",
                            s};
    }
    {
        // Qwen1.5-MoE-A2.7B: q/k/v biases, a sigmoid-gated shared expert.
        Sketch s = common("qwen2moe", "tiny-qwen2moe", 352, 64, 2, 4, 4, 8192, 1e-6, 1e6);
        s.u32("qwen2moe.feed_forward_length", 128);
        s.u32("qwen2moe.expert_feed_forward_length", 32);
        s.u32("qwen2moe.expert_shared_feed_forward_length", 128);
        s.u32("qwen2moe.expert_count", 6);
        s.u32("qwen2moe.expert_used_count", 2);
        s.u32("tokenizer.ggml.bos_token_id", 340);
        s.u32("tokenizer.ggml.eos_token_id", 341);
        s.tensor("output.weight", {64, 352});
        s.tensor("blk.0.attn_q.bias", {64});
        s.tensor("blk.0.ffn_gate_inp.weight", {64, 6});
        s.tensor("blk.0.ffn_up_shexp.weight", {64, 128});
        s.tensor("blk.0.ffn_gate_inp_shexp.weight", {64});
        c["qwen2moe"] = {R"({"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe",
          "_name_or_path": "tiny-qwen2moe", "vocab_size": 352, "hidden_size": 64, "intermediate_size": 128,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4, "num_experts": 6,
          "num_experts_per_tok": 2, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 128,
          "decoder_sparse_step": 1, "mlp_only_layers": [], "norm_topk_prob": false, "output_router_logits": false,
          "max_position_embeddings": 8192, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
          "use_sliding_window": false, "sliding_window": 32768, "bos_token_id": 340, "eos_token_id": 341,
          "tie_word_embeddings": false})",
                         s};
    }
    {
        // Qwen3-30B-A3B: explicit head_dim, per-head QK-norm, renormalized top-k.
        Sketch s = common("qwen3moe", "tiny-qwen3moe", 352, 64, 2, 4, 2, 40960, 1e-6, 1e6);
        s.u32("qwen3moe.feed_forward_length", 96);
        s.u32("qwen3moe.expert_feed_forward_length", 24);
        s.u32("qwen3moe.expert_count", 8);
        s.u32("qwen3moe.expert_used_count", 2);
        s.u32("qwen3moe.attention.key_length", 32);
        s.u32("qwen3moe.attention.value_length", 32);
        s.u32("tokenizer.ggml.bos_token_id", 340);
        s.u32("tokenizer.ggml.eos_token_id", 341);
        s.tensor("output.weight", {64, 352});
        s.tensor("blk.0.attn_q_norm.weight", {32});
        s.tensor("blk.0.attn_k_norm.weight", {32});
        c["qwen3moe"] = {R"({"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
          "_name_or_path": "tiny-qwen3moe", "vocab_size": 352, "hidden_size": 64, "intermediate_size": 96,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
          "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 24, "norm_topk_prob": true,
          "decoder_sparse_step": 1, "mlp_only_layers": [], "max_position_embeddings": 40960, "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0, "rope_scaling": null, "attention_bias": false, "use_sliding_window": false,
          "bos_token_id": 340, "eos_token_id": 341, "tie_word_embeddings": false})",
                         s};
    }
    {
        // OLMoE-1B-7B-0924: no rms_norm_eps in config.json (1e-5 default), full-width QK-norm, no
        // bos.
        Sketch s = common("olmoe", "tiny-olmoe", 320, 64, 2, 4, 4, 4096, 1e-5, 10000);
        s.u32("olmoe.feed_forward_length", 32);
        s.u32("olmoe.expert_count", 8);
        s.u32("olmoe.expert_used_count", 2);
        s.u32("tokenizer.ggml.eos_token_id", 300);
        s.tensor("output.weight", {64, 320});
        s.tensor("blk.0.attn_q_norm.weight", {64});
        s.tensor("blk.0.attn_k_norm.weight", {64});
        c["olmoe"] = {
            R"({"architectures": ["OlmoeForCausalLM"], "model_type": "olmoe", "_name_or_path": "tiny-olmoe",
          "vocab_size": 320, "hidden_size": 64, "intermediate_size": 32, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 4, "num_experts": 8, "num_experts_per_tok": 2,
          "norm_topk_prob": false, "clip_qkv": null, "max_position_embeddings": 4096, "rope_theta": 10000.0,
          "rope_scaling": null, "attention_bias": false, "eos_token_id": 300, "pad_token_id": 1,
          "bos_token_id": null, "tie_word_embeddings": false})",
            s};
    }
    // DeepSeek-V2-Lite, current MLA form (gating func written) and legacy form (no gating key).
    c["deepseek-v2-lite mla"] = {kV2LiteConfig, deepseek("tiny-v2-lite", 3, true, 0, 0.0707)};
    c["deepseek-v2-lite mla"].gguf.u32("deepseek2.expert_gating_func", 1);
    c["deepseek-v2-lite mla"].gguf.u32("deepseek2.expert_group_count", 1);
    c["deepseek-v2-lite mla"].gguf.u32("deepseek2.expert_group_used_count", 1);
    c["deepseek-v2-lite legacy"] = {kV2LiteConfig, deepseek("tiny-v2-lite", 3, false, 0, 0.0707)};
    {
        // DeepSeek-V2 (236B) style: q_lora, group-limited greedy over 4 groups, x16 scaling.
        Sketch s = deepseek("tiny-v2", 3, true, 48, 0.0707);
        s.u32("deepseek2.expert_gating_func", 1);
        s.f32("deepseek2.expert_weights_scale", 16.0);
        s.u32("deepseek2.expert_group_count", 4);
        s.u32("deepseek2.expert_group_used_count", 2);
        std::string cfg = kV2LiteConfig;
        auto replace = [&](const std::string& from, const std::string& to) {
            cfg.replace(cfg.find(from), from.size(), to);
        };
        replace(R"("tiny-v2-lite")", R"("tiny-v2")");
        replace(R"("q_lora_rank": null)", R"("q_lora_rank": 48)");
        replace(R"("topk_method": "greedy", "n_group": 1, "topk_group": 1)",
                R"("topk_method": "group_limited_greedy", "n_group": 4, "topk_group": 2)");
        replace(R"("routed_scaling_factor": 1.0)", R"("routed_scaling_factor": 16.0)");
        c["deepseek-v2 groups"] = {cfg, s};
    }
    {
        // DeepSeek-V3: sigmoid, noaux_tc (exp_probs_b), normalized x2.5, one MTP layer in the file.
        Sketch s = deepseek("tiny-v3", 4, true, 48, 0.1);
        s.u32("deepseek2.nextn_predict_layers", 1);
        s.u32("deepseek2.expert_shared_count", 1);
        s.u32("deepseek2.expert_gating_func", 2);
        s.boolean("deepseek2.expert_weights_norm", true);
        s.f32("deepseek2.expert_weights_scale", 2.5);
        s.u32("deepseek2.expert_group_count", 4);
        s.u32("deepseek2.expert_group_used_count", 2);
        s.tensor("blk.1.exp_probs_b.bias", {8});
        c["deepseek-v3"] = {
            R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
          "_name_or_path": "tiny-v3", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 160,
          "moe_intermediate_size": 24, "num_hidden_layers": 3, "num_nextn_predict_layers": 1,
          "num_attention_heads": 4, "num_key_value_heads": 4, "n_shared_experts": 1, "n_routed_experts": 8,
          "num_experts_per_tok": 2, "routed_scaling_factor": 2.5, "kv_lora_rank": 32, "q_lora_rank": 48,
          "qk_rope_head_dim": 8, "v_head_dim": 16, "qk_nope_head_dim": 16, "topk_method": "noaux_tc",
          "n_group": 4, "topk_group": 2, "first_k_dense_replace": 1, "moe_layer_freq": 1, "norm_topk_prob": true,
          "scoring_func": "sigmoid", "max_position_embeddings": 163840, "rms_norm_eps": 1e-06, "rope_theta": 10000,
          "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
            "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
          "attention_bias": false, "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false})",
            s};
    }
    return c;
}

// The fields that differ, for a readable failure.
std::string specDiff(const ModelSpec& a, const ModelSpec& b) {
    std::ostringstream o;
    o.precision(9);
    auto f = [&](const char* n, const auto& x, const auto& y) {
        if (!(x == y)) o << n << ": gguf " << x << " vs hf " << y << "; ";
    };
    f("architecture", a.architecture, b.architecture);
    f("family", a.family, b.family);
    f("name", a.name, b.name);
    f("nVocab", a.nVocab, b.nVocab);
    f("nEmbd", a.nEmbd, b.nEmbd);
    f("nLayer", a.nLayer, b.nLayer);
    f("nHead", a.nHead, b.nHead);
    f("nHeadKv", a.nHeadKv, b.nHeadKv);
    f("headDim", a.headDim, b.headDim);
    f("nFf", a.nFf, b.nFf);
    f("nExpert", a.nExpert, b.nExpert);
    f("nExpertUsed", a.nExpertUsed, b.nExpertUsed);
    f("nCtxTrain", a.nCtxTrain, b.nCtxTrain);
    f("ropeTheta", a.ropeTheta, b.ropeTheta);
    f("rmsEps", a.rmsEps, b.rmsEps);
    f("ropeInterleaved", a.ropeInterleaved, b.ropeInterleaved);
    f("nRot", a.nRot, b.nRot);
    f("rope.type", a.ropeScaling.type, b.ropeScaling.type);
    f("rope.factor", a.ropeScaling.factor, b.ropeScaling.factor);
    f("rope.originalContext", a.ropeScaling.originalContext, b.ropeScaling.originalContext);
    f("rope.betaFast", a.ropeScaling.betaFast, b.ropeScaling.betaFast);
    f("rope.betaSlow", a.ropeScaling.betaSlow, b.ropeScaling.betaSlow);
    f("rope.mscale", a.ropeScaling.mscale, b.ropeScaling.mscale);
    f("rope.mscaleAllDim", a.ropeScaling.mscaleAllDim, b.ropeScaling.mscaleAllDim);
    f("rope.attentionFactor", a.ropeScaling.attentionFactor, b.ropeScaling.attentionFactor);
    f("qkNorm", a.qkNorm, b.qkNorm);
    f("attnBias", a.attnBias, b.attnBias);
    f("nFfDense", a.nFfDense, b.nFfDense);
    f("nFfShared", a.nFfShared, b.nFfShared);
    f("nExpertShared", a.nExpertShared, b.nExpertShared);
    f("sharedExpertGate", a.sharedExpertGate, b.sharedExpertGate);
    f("scoringFunc", a.scoringFunc, b.scoringFunc);
    f("topkMethod", a.topkMethod, b.topkMethod);
    f("normTopkProb", a.normTopkProb, b.normTopkProb);
    f("routedScalingFactor", a.routedScalingFactor, b.routedScalingFactor);
    f("nGroup", a.nGroup, b.nGroup);
    f("topkGroup", a.topkGroup, b.topkGroup);
    f("firstKDenseReplace", a.firstKDenseReplace, b.firstKDenseReplace);
    f("decoderSparseStep", a.decoderSparseStep, b.decoderSparseStep);
    f("mlpOnlyLayers", a.mlpOnlyLayers.size(), b.mlpOnlyLayers.size());
    f("qLoraRank", a.qLoraRank, b.qLoraRank);
    f("kvLoraRank", a.kvLoraRank, b.kvLoraRank);
    f("qkNopeHeadDim", a.qkNopeHeadDim, b.qkNopeHeadDim);
    f("qkRopeHeadDim", a.qkRopeHeadDim, b.qkRopeHeadDim);
    f("vHeadDim", a.vHeadDim, b.vHeadDim);
    f("tieWordEmbeddings", a.tieWordEmbeddings, b.tieWordEmbeddings);
    f("bosId", a.bosId, b.bosId);
    f("eosIds", a.eosIds.size(), b.eosIds.size());
    if (a.eosIds.size() == 1 && b.eosIds.size() == 1) f("eosId", a.eosIds[0], b.eosIds[0]);
    return o.str();
}

} // namespace

class TestGgufSpec : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string pathOf(const QString& tag) const {
        std::string t = tag.toStdString();
        std::replace(t.begin(), t.end(), ' ', '-');
        return m_dir.path().toStdString() + "/" + t + ".gguf";
    }

private slots:
    void sameSpecAsConfigJson_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("family");
        for (const auto& [name, c] : cases()) {
            const char* family = name.starts_with("deepseek")              ? "deepseek"
                                 : name.find("dense") != std::string::npos ? "dense"
                                                                           : "gqa-moe";
            QTest::newRow(name.c_str()) << QString::fromStdString(name) << QString(family);
        }
    }
    void sameSpecAsConfigJson() {
        QFETCH(QString, model);
        QFETCH(QString, family);
        const Case c = cases().at(model.toStdString());
        ModelSpec hf;
        Status st = hf::readConfigText(c.config, model.toStdString() + "/config.json", hf);
        QVERIFY2(st.isOk(), st.message().c_str());
        const std::string path = pathOf(model);
        st = c.gguf.write(path);
        QVERIFY2(st.isOk(), st.message().c_str());
        auto file = gguf::GgufFile::open(path);
        QVERIFY2(file.isOk(), file.status().message().c_str());
        ModelSpec g;
        st = gguf::readGgufSpec(*file, g);
        QVERIFY2(st.isOk(), st.message().c_str());
        QCOMPARE(QString::fromStdString(g.family), family);
        // The one documented difference: llama-arch q/k rows were permuted to interleaved (§1.3).
        QCOMPARE(g.ropeInterleaved, g.architecture == "llama" || g.architecture == "deepseek2");
        if (g.architecture == "llama") {
            QVERIFY(!hf.ropeInterleaved);
            hf.ropeInterleaved = true;
        }
        QVERIFY2(g == hf, specDiff(g, hf).c_str());
    }

    // Spot checks of the values behind the equalities above, from §2.1 and §9.6 directly.
    void deepseekValues() {
        const auto all = cases();
        for (const char* name : {"deepseek-v2-lite mla", "deepseek-v2-lite legacy"}) {
            const std::string path = pathOf(name);
            QVERIFY(all.at(name).gguf.write(path).isOk());
            auto file = gguf::GgufFile::open(path);
            QVERIFY(file.isOk());
            ModelSpec s;
            QVERIFY(gguf::readGgufSpec(*file, s).isOk());
            QCOMPARE(s.nHeadKv, 4); // config.json's num_key_value_heads, not the MLA file's 1
            QCOMPARE(s.headDim, 24);
            QCOMPARE(s.qkNopeHeadDim, 16);
            QCOMPARE(s.vHeadDim, 16);
            QCOMPARE(s.kvLoraRank, 32);
            QCOMPARE(s.qLoraRank, 0);
            QCOMPARE(s.nFfShared, 2 * 24);
            QCOMPARE(s.ropeScaling.mscaleAllDim, 0.707f);
            QCOMPARE(s.scoringFunc, std::string("softmax"));
        }
    }

    void errors_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing embedding_length") << "qwen3moe"
                                                  << "drop qwen3moe.embedding_length"
                                                  << "'qwen3moe.embedding_length' is missing";
        QTest::newRow("missing context_length") << "mixtral"
                                                << "drop llama.context_length"
                                                << "'llama.context_length' is missing";
        QTest::newRow("missing architecture") << "olmoe"
                                              << "drop general.architecture"
                                              << "'general.architecture' is missing";
        QTest::newRow("unknown architecture") << "olmoe"
                                              << "str general.architecture gpt2"
                                              << "general.architecture 'gpt2' is not supported";
        QTest::newRow("heads not a multiple")
            << "qwen3moe"
            << "u32 qwen3moe.attention.head_count_kv 3"
            << "'qwen3moe.attention.head_count_kv' = 3 does not divide";
        QTest::newRow("used > experts") << "olmoe"
                                        << "u32 olmoe.expert_used_count 9"
                                        << "'olmoe.expert_used_count' = 9 exceeds expert_count = 8";
        QTest::newRow("block_count zero") << "qwen2 dense tied"
                                          << "u32 qwen2.block_count 0"
                                          << "'qwen2.block_count' = 0 is out of range";
        QTest::newRow("count as a string") << "mixtral"
                                           << "str llama.expert_count eight"
                                           << "'llama.expert_count' is string, expected an integer";
        QTest::newRow("eps as a string")
            << "mixtral"
            << "str llama.attention.layer_norm_rms_epsilon tiny"
            << "'llama.attention.layer_norm_rms_epsilon' is string, expected a number";
        QTest::newRow("odd rope dims") << "llama dense"
                                       << "u32 llama.rope.dimension_count 15"
                                       << "'llama.rope.dimension_count' = 15 must be even";
        QTest::newRow("qwen3 without q_norm") << "qwen3 dense"
                                              << "drop blk.0.attn_q_norm.weight"
                                              << "tensor 'blk.0.attn_q_norm.weight' is missing";
        QTest::newRow("q_norm of another width")
            << "olmoe"
            << "tensor blk.0.attn_q_norm.weight 48"
            << "tensor 'blk.0.attn_q_norm.weight' has 1 dims (ne[0] = 48)";
        QTest::newRow("mla with head_count_kv 4")
            << "deepseek-v3"
            << "u32 deepseek2.attention.head_count_kv 4"
            << "'deepseek2.attention.head_count_kv' = 4, expected 1";
        QTest::newRow("legacy with head_count_kv 1")
            << "deepseek-v2-lite legacy"
            << "u32 deepseek2.attention.head_count_kv 1"
            << "'deepseek2.attention.head_count_kv' = 1, expected head_count";
        QTest::newRow("mla missing value_length_mla")
            << "deepseek-v3"
            << "drop deepseek2.attention.value_length_mla"
            << "'deepseek2.attention.value_length_mla' is missing";
        QTest::newRow("mla key_length mismatch")
            << "deepseek-v3"
            << "u32 deepseek2.attention.key_length 41"
            << "'deepseek2.attention.key_length' = 41, expected kv_lora_rank";
        QTest::newRow("missing kv_lora_rank") << "deepseek-v3"
                                              << "drop deepseek2.attention.kv_lora_rank"
                                              << "'deepseek2.attention.kv_lora_rank' is missing";
        QTest::newRow("gating func 3") << "deepseek-v3"
                                       << "u32 deepseek2.expert_gating_func 3"
                                       << "'deepseek2.expert_gating_func' = 3 is not supported";
        QTest::newRow("groups do not fit")
            << "deepseek-v3"
            << "u32 deepseek2.expert_group_used_count 5"
            << "'deepseek2.expert_group_used_count' / expert_group_count = 5 / 4";
        QTest::newRow("nextn eats every layer")
            << "deepseek-v3"
            << "u32 deepseek2.nextn_predict_layers 4"
            << "'deepseek2.nextn_predict_layers' = 4 leaves no layer";
        QTest::newRow("dense blocks > layers")
            << "deepseek-v3"
            << "u32 deepseek2.leading_dense_block_count 9"
            << "'deepseek2.leading_dense_block_count' = 9 exceeds block_count";
        QTest::newRow("hostile block_count")
            << "qwen2moe"
            << "u32 qwen2moe.block_count 1000000000"
            << "'qwen2moe.block_count' = 1000000000 exceeds 65536 layers";
        QTest::newRow("shared width overflows")
            << "deepseek-v3"
            << "u32 deepseek2.expert_shared_count 100000000"
            << "'deepseek2.expert_shared_count' = 100000000 shared experts";
        QTest::newRow("norm flag not a bool")
            << "deepseek-v3"
            << "u32 deepseek2.expert_weights_norm 7"
            << "'deepseek2.expert_weights_norm' is 7, expected a bool";
    }
    void errors() {
        QFETCH(QString, model);
        QFETCH(QString, edit);
        QFETCH(QString, expected);
        Sketch s = cases().at(model.toStdString()).gguf;
        const QStringList e = edit.split(' ');
        if (e[0] == "drop")
            s.drop(e[1].toStdString());
        else if (e[0] == "u32")
            s.u32(e[1].toStdString(), e[2].toULongLong());
        else if (e[0] == "str")
            s.str(e[1].toStdString(), e[2].toStdString());
        else if (e[0] == "tensor") {
            s.drop(e[1].toStdString());
            s.tensor(e[1].toStdString(), {e[2].toULongLong()});
        }
        const std::string path = m_dir.path().toStdString() + "/bad-spec.gguf";
        QVERIFY(s.write(path).isOk());
        auto file = gguf::GgufFile::open(path);
        QVERIFY2(file.isOk(), file.status().message().c_str());
        ModelSpec spec;
        spec.name = "untouched";
        const Status st = gguf::readGgufSpec(*file, spec);
        QVERIFY(!st.isOk());
        const QString msg = QString::fromStdString(st.message());
        QVERIFY2(msg.contains("bad-spec.gguf"), qPrintable(msg));
        QVERIFY2(msg.contains(expected), qPrintable(msg));
        QCOMPARE(spec.name, std::string("untouched")); // a failure leaves the spec as it was
    }

    // config.json names the dense architectures it now reads in its unsupported message.
    void hfUnsupportedListsDense() {
        ModelSpec spec;
        const Status st = hf::readConfigText(R"({"architectures": ["GPT2LMHeadModel"]})",
                                             "gpt2/config.json", spec);
        QCOMPARE(st.code(), StatusCode::Unsupported);
        QVERIFY2(st.message().find("Llama, Qwen2, Qwen3") != std::string::npos,
                 st.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestGgufSpec)
#include "test-gguf-spec.moc"
