// Model: one model file opened read-only (memory-mapped) and described by a ModelSpec.
// Weights stay in the mapped file; a backend reads or uploads them. A Model is immutable after
// load and shared (std::shared_ptr<const Model>) by every Session that runs it.
#pragma once

#include "moe/status.h"
#include "moe/tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace moe {

// RoPE frequency scaling (rope_scaling / rope_parameters of config.json, §1.4). type "none"
// leaves the frequencies as they are; 0 for mscale/mscaleAllDim/attentionFactor means unset.
struct RopeScaling {
    std::string type = "none"; // "none", "linear", "yarn", "dynamic", "longrope", "llama3"
    float factor = 1.0f;
    int originalContext = 0; // original_max_position_embeddings (0: max_position_embeddings)
    float betaFast = 32.0f;
    float betaSlow = 1.0f;
    float mscale = 0.0f;
    float mscaleAllDim = 0.0f;
    float attentionFactor = 0.0f;
    bool operator==(const RopeScaling&) const = default;
};

// Sampling defaults of generation_config.json (a model's recommended settings); unset: < 0.
struct GenerationDefaults {
    bool present = false; // generation_config.json was read
    bool doSample = false;
    float temperature = -1.0f;
    int topK = -1;
    float topP = -1.0f;
    float repetitionPenalty = -1.0f;
    int maxNewTokens = -1;
    bool operator==(const GenerationDefaults&) const = default;
};

// Normalized description of an architecture instance: every hyper-parameter the forward needs.
struct ModelSpec {
    std::string architecture; // GGUF general.architecture ("llama" for Mixtral)
    std::string family;       // "gqa-moe" (Mixtral, Qwen-MoE, OLMoE), later "deepseek", "dense"
    std::string name;         // general.name, or the file name
    int nVocab = 0;
    int nEmbd = 0;
    int nLayer = 0;
    int nHead = 0;
    int nHeadKv = 0;
    int headDim = 0;
    int nFf = 0;         // expert intermediate size
    int nExpert = 0;     // routed experts per MoE layer
    int nExpertUsed = 0; // experts per token
    int nCtxTrain = 0;   // context length the model was made for
    float ropeTheta = 10000.0f;
    float rmsEps = 1e-5f;

    // Fields below come from config.json (HF folders) or the matching GGUF keys; the defaults
    // describe a Mixtral-style model.
    bool ropeInterleaved = true; // pairs (2i, 2i+1) (GGUF llama, DeepSeek); false: (i, i + d/2)
    int nRot = 0;                // rotary dims per head (0: headDim)
    RopeScaling ropeScaling;
    std::string qkNorm = "none";     // "none", "head" (Qwen3: per head [d]), "full" (OLMoE: [nh*d])
    bool attnBias = false;           // q/k/v projections carry biases (Qwen2-MoE)
    int nFfDense = 0;                // intermediate size of dense (non-MoE) layers
    int nFfShared = 0;               // shared-expert intermediate size (total), 0: none
    int nExpertShared = 0;           // DeepSeek n_shared_experts
    bool sharedExpertGate = false;   // Qwen2-MoE sigmoid gate on the shared expert
    std::string scoringFunc = "softmax"; // router scores: "softmax" or "sigmoid"
    std::string topkMethod = "greedy";   // "greedy", "group_limited_greedy", "noaux_tc"
    bool normTopkProb = true;        // renormalize the k weights (Mixtral: always)
    float routedScalingFactor = 1.0f;
    int nGroup = 1;                  // expert groups (group-limited routing)
    int topkGroup = 1;               // groups kept per token
    int firstKDenseReplace = 0;      // layers [0, k) are dense (DeepSeek)
    int decoderSparseStep = 1;       // Qwen-MoE: layer L is MoE iff (L + 1) % step == 0
    std::vector<int> mlpOnlyLayers;  // Qwen-MoE: dense layers by index
    int qLoraRank = 0;               // MLA (DeepSeek): 0 = plain q_proj
    int kvLoraRank = 0;
    int qkNopeHeadDim = 0;
    int qkRopeHeadDim = 0;
    int vHeadDim = 0;
    bool tieWordEmbeddings = false;
    int slidingWindow = 0;            // attend to the last N positions only (0: all; Mistral-style)
    int bosId = -1;
    std::vector<int> eosIds;          // generation stops on any of them
    GenerationDefaults generation;
    bool operator==(const ModelSpec&) const = default;
};

// One tensor as stored: shape in PyTorch order (slowest first, [out, in] for a linear weight).
struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;
    std::string type; // "F32", "F16", "BF16", ...
    std::string file;    // the file holding it (a GGUF shard, a safetensors file)
    uint64_t offset = 0; // byte offset in that file
    uint64_t bytes = 0;
    uint64_t elements() const;
};

struct ModelInfo {
    std::string path;
    std::string format; // "gguf" or "hf" (a Hugging Face folder; path is the folder)
    uint32_t formatVersion = 0;
    uint64_t fileBytes = 0;
    uint64_t parameterCount = 0;
    uint64_t weightBytes = 0; // sum of tensor bytes
    uint64_t kvBytesPerToken = 0; // KV cache bytes one token takes in all layers (float32 rows)
    ModelSpec spec;
    std::vector<TensorInfo> tensors;
    // Every metadata key with a printable value (arrays abbreviated), in file order.
    std::vector<std::pair<std::string, std::string>> metadata;
    // The model's own Jinja chat template (GGUF tokenizer.chat_template; a folder's
    // chat_template.jinja or tokenizer_config.json chat_template), verbatim; empty when none.
    std::string chatTemplate;
};

class ModelImpl; // engine-internal: weights, tokenizer, mapped file

class Model {
public:
    // Opens and validates a model: a GGUF file, or a Hugging Face folder (config.json present).
    // Errors name the file and the field or offset at fault.
    static Result<std::shared_ptr<const Model>> load(const std::string& path);

    explicit Model(std::unique_ptr<ModelImpl> impl);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelInfo& info() const;
    const ModelSpec& spec() const { return info().spec; }
    // Requires hasTokenizer(): a GGUF model has one unless tokenizer.ggml.model is "none"; a
    // Hugging Face folder has one when it ships tokenizer files the engine reads.
    const Tokenizer& tokenizer() const;
    bool hasTokenizer() const;
    // Renders a conversation with the model's own chat template (built-in ChatML when the model
    // has none), ending with the assistant prefix when addGenerationPrompt is set. Errors: the
    // template's raise_exception message or a template error, naming the model and line:col.
    Result<std::string> renderChat(const std::vector<ChatMessage>& messages,
                                   bool addGenerationPrompt) const;
    // renderChat, then tokenized without adding BOS/EOS (the template writes the special tokens
    // it wants), as transformers' apply_chat_template(tokenize=True) does. Needs hasTokenizer().
    Result<std::vector<int32_t>> encodeChat(const std::vector<ChatMessage>& messages,
                                            bool addGenerationPrompt) const;

    const ModelImpl& impl() const { return *m_impl; }

private:
    std::unique_ptr<ModelImpl> m_impl;
};

} // namespace moe
