// ModelImpl: what Model hides — the mapped GGUF file or Hugging Face folder (behind a
// WeightSource), the normalized ModelSpec and ModelInfo, the tokenizer, and the family's weight
// views into the mapping.
#pragma once

#include "formats/gguf/gguf-split.h"
#include "models/decoder.h"
#include "models/weight-source.h"
#include "moe/chat-template.h"
#include "moe/model.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace moe {

class ModelImpl {
public:
    static Result<std::unique_ptr<ModelImpl>> load(const std::string& path);
    // A Hugging Face folder (config.json, *.safetensors, optional generation_config.json and
    // tokenizer files); the tokenizer is optional (null when the folder has none we read).
    static Result<std::unique_ptr<ModelImpl>> loadHfFolder(const std::string& dir);

    gguf::GgufModelFiles files; // GGUF models only: one file, or every shard of a split model
    std::unique_ptr<WeightSource> weightSource;
    ModelInfo info;
    std::unique_ptr<Tokenizer> tokenizer;
    // The backend whose memory holds the bound weights (the CPU: the mapped file in place) and
    // the family's bound weights and forward pass; declared in this order so forward goes first.
    std::unique_ptr<ComputeBackend> device;
    std::unique_ptr<FamilyForward> forward;
    // Compiled from info.chatTemplate (built-in ChatML when empty); a template that does not
    // compile leaves chatTemplateError set, reported by every renderChat.
    std::optional<ChatTemplate> chatTemplate;
    void compileChatTemplate();

    // A GPU the model runs on: its backend (the weights resident in its memory) and the family
    // bound there. The model's sessions on that device share the backend, one forward at a time
    // (lock); a CPU session has its own backend and uses `forward` above.
    struct DeviceBinding {
        std::string device; // "cuda:0", "vulkan:1"
        std::unique_ptr<ComputeBackend> backend;
        std::unique_ptr<FamilyForward> forward;
        std::mutex lock;
    };
    // Binds the weights on a resolved device name once (thread-safe); later calls return it.
    Result<DeviceBinding*> bindDevice(const std::string& device) const;
    Status chatTemplateError;

private:
    mutable std::mutex m_devicesMutex;
    mutable std::map<std::string, std::unique_ptr<DeviceBinding>> m_devices;
};

} // namespace moe
