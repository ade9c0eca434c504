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
};

// One tensor as stored: shape in PyTorch order (slowest first, [out, in] for a linear weight).
struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;
    std::string type; // "F32", "F16", "BF16", ...
    uint64_t offset = 0; // byte offset in the file
    uint64_t bytes = 0;
    uint64_t elements() const;
};

struct ModelInfo {
    std::string path;
    std::string format; // "gguf"
    uint32_t formatVersion = 0;
    uint64_t fileBytes = 0;
    uint64_t parameterCount = 0;
    uint64_t weightBytes = 0; // sum of tensor bytes
    ModelSpec spec;
    std::vector<TensorInfo> tensors;
    // Every metadata key with a printable value (arrays abbreviated), in file order.
    std::vector<std::pair<std::string, std::string>> metadata;
};

class ModelImpl; // engine-internal: weights, tokenizer, mapped file

class Model {
public:
    // Opens and validates a model file. Errors name the file and the field or offset at fault.
    static Result<std::shared_ptr<const Model>> load(const std::string& path);

    explicit Model(std::unique_ptr<ModelImpl> impl);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelInfo& info() const;
    const ModelSpec& spec() const { return info().spec; }
    const Tokenizer& tokenizer() const;
    // Renders a conversation with the model's chat format, ending with the assistant prefix
    // when addGenerationPrompt is set. v0: the built-in ChatML format.
    std::string renderChat(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const;

    const ModelImpl& impl() const { return *m_impl; }

private:
    std::unique_ptr<ModelImpl> m_impl;
};

} // namespace moe
