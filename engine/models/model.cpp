// Model loading: GGUF file or Hugging Face folder -> ModelSpec + ModelInfo + tokenizer + family
// weight views (through a WeightSource, so the family binder is format-blind). Dispatches on
// general.architecture / config.json architectures; the family binder (models/decoder.h) binds the
// weights of the spec's family: gqa-moe, dense or deepseek.
#include "models/model-impl.h"

#include "formats/gguf/gguf-spec.h"
#include "formats/hf/hf-config.h"

#include "tokenizers/tokenizer-factory.h"
#include "moe/chat-template.h"

#include <algorithm>
#include <filesystem>

namespace moe {

uint64_t TensorInfo::elements() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= uint64_t(d);
    return n;
}

Result<std::unique_ptr<ModelImpl>> ModelImpl::load(const std::string& path) {
    auto impl = std::make_unique<ModelImpl>();
    MOE_ASSIGN_OR_RETURN(impl->files, gguf::GgufModelFiles::open(path));
    const gguf::GgufFile& f = impl->files.meta(); // a split model's first shard: the metadata
    ModelInfo& info = impl->info;
    info.path = path;
    info.format = "gguf";
    info.formatVersion = f.version();
    info.fileBytes = impl->files.totalBytes();
    for (const gguf::MetaEntry& e : f.metadata()) info.metadata.emplace_back(e.key, e.value.display());
    for (const gguf::GgufFile& shard : impl->files.files()) {
        for (const gguf::TensorEntry& t : shard.tensors()) {
            TensorInfo ti;
            ti.file = shard.path();
            ti.name = t.name;
            ti.shape.assign(t.ne.rbegin(), t.ne.rend()); // ggml ne -> PyTorch order
            ti.type = gguf::typeName(t.type);
            ti.offset = shard.dataOffset() + t.offset;
            ti.bytes = t.bytes;
            info.parameterCount += t.elements;
            info.weightBytes += t.bytes;
            info.tensors.push_back(std::move(ti));
        }
    }

    ModelSpec& spec = info.spec;
    const auto tensorOf = [&files = impl->files](std::string_view n) { return files.tensor(n); };
    MOE_TRY(gguf::readGgufSpec(f, tensorOf, spec));

    // tokenizer.ggml.model "none" (llama.cpp's vocabulary-less marker, what converting a folder
    // without tokenizer files writes) loads like such a folder: no tokenizer, and the vocabulary
    // size and special ids readGgufSpec read from the arch and tokenizer.ggml.*_token_id keys.
    const std::string tokenizerModel = f.getString("tokenizer.ggml.model", "");
    if (tokenizerModel != "none" && tokenizerModel != "no_vocab") {
        MOE_ASSIGN_OR_RETURN(impl->tokenizer, loadGgufTokenizer(f));
        spec.nVocab = impl->tokenizer->vocabSize();
        if (auto v = f.getInt(spec.architecture + ".vocab_size", spec.nVocab); v != spec.nVocab)
            return Status(StatusCode::CorruptFile,
                          path + ": " + spec.architecture + ".vocab_size is " + std::to_string(v) +
                              " but the tokenizer has " + std::to_string(spec.nVocab) + " tokens");
        spec.bosId = impl->tokenizer->bosId();
        if (impl->tokenizer->eosId() >= 0) spec.eosIds = {impl->tokenizer->eosId()};
    }
    info.chatTemplate = f.getString("tokenizer.chat_template", "");
    impl->weightSource = std::make_unique<GgufWeightSource>(impl->files);
    impl->device = makeCpuBackend(1);
    MOE_ASSIGN_OR_RETURN(impl->forward, bindFamily(*impl->weightSource, spec, *impl->device));
    return impl;
}

Result<std::unique_ptr<ModelImpl>> ModelImpl::loadHfFolder(const std::string& dir) {
    namespace fs = std::filesystem;
    auto impl = std::make_unique<ModelImpl>();
    ModelInfo& info = impl->info;
    ModelSpec& spec = info.spec;
    info.path = dir;
    info.format = "hf";
    MOE_TRY(hf::readConfig(dir + "/config.json", spec));
    std::error_code ec;
    if (fs::exists(dir + "/generation_config.json", ec)) MOE_TRY(hf::readGenerationConfig(dir + "/generation_config.json", spec));
    if (spec.name.empty()) {
        fs::path p = fs::path(dir).lexically_normal();
        if (!p.has_filename()) p = p.parent_path(); // "dir/" names the folder too
        spec.name = p.filename().string();
    }
    MOE_ASSIGN_OR_RETURN(auto src, SafetensorsWeightSource::open(dir));
    for (const st::SafetensorsFile& file : src->folder().files()) {
        info.fileBytes += file.fileSize();
        for (const st::Tensor& t : file.tensors()) {
            TensorInfo ti;
            ti.name = t.name;
            ti.shape = t.shape;
            ti.type = st::dtypeName(t.dtype);
            ti.file = file.path();
            ti.offset = 8 + file.headerBytes() + t.begin;
            ti.bytes = t.bytes();
            info.parameterCount += t.elements;
            info.weightBytes += t.bytes();
            info.tensors.push_back(std::move(ti));
        }
    }
    const auto configPairs = {std::pair<const char*, std::string>{"architecture", spec.architecture},
                              {"family", spec.family}, {"sharded", src->folder().sharded() ? "true" : "false"}};
    for (const auto& [k, v] : configPairs) info.metadata.emplace_back(k, v);
    // The folder's tokenizer is optional: a model without one still evaluates token ids.
    if (fs::exists(dir + "/tokenizer.json", ec) || fs::exists(dir + "/tokenizer.model", ec)) {
        MOE_ASSIGN_OR_RETURN(impl->tokenizer, loadTokenizer(dir));
        if (impl->tokenizer->vocabSize() > spec.nVocab)
            return Status(StatusCode::CorruptFile, dir + " (tokenizer): " + std::to_string(impl->tokenizer->vocabSize()) +
                                                       " tokens, more than config.json vocab_size " +
                                                       std::to_string(spec.nVocab));
    }
    MOE_ASSIGN_OR_RETURN(info.chatTemplate, hf::readChatTemplate(dir));
    impl->weightSource = std::move(src);
    impl->device = makeCpuBackend(1);
    MOE_ASSIGN_OR_RETURN(impl->forward, bindFamily(*impl->weightSource, spec, *impl->device));
    return impl;
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(path, ec);
    if (folder && !std::filesystem::exists(path + "/config.json", ec))
        return Status(StatusCode::NotFound, path + ": a folder without config.json is not a Hugging Face model folder");
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<ModelImpl> impl, folder ? ModelImpl::loadHfFolder(path) : ModelImpl::load(path));
    impl->compileChatTemplate();
    const KvGeometry kv = impl->forward->kvGeometry();
    impl->info.kvBytesPerToken = uint64_t(impl->info.spec.nLayer) * uint64_t(kv.kDim + kv.vDim) * sizeof(float);
    return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(impl)));
}

Result<ModelImpl::DeviceBinding*> ModelImpl::bindDevice(const std::string& device) const {
    std::lock_guard<std::mutex> guard(m_devicesMutex);
    auto it = m_devices.find(device);
    if (it != m_devices.end()) return it->second.get();
    auto binding = std::make_unique<DeviceBinding>();
    binding->device = device;
    MOE_ASSIGN_OR_RETURN(binding->backend, makeDeviceBackend(device, 1));
    MOE_ASSIGN_OR_RETURN(binding->forward, bindFamily(*weightSource, info.spec, *binding->backend));
    DeviceBinding* out = binding.get();
    m_devices.emplace(device, std::move(binding));
    return out;
}

Model::Model(std::unique_ptr<ModelImpl> impl) : m_impl(std::move(impl)) {}
Model::~Model() = default;

const ModelInfo& Model::info() const { return m_impl->info; }
const Tokenizer& Model::tokenizer() const { return *m_impl->tokenizer; }
bool Model::hasTokenizer() const { return m_impl->tokenizer != nullptr; }

void ModelImpl::compileChatTemplate() {
    auto compiled = info.chatTemplate.empty()
                        ? ChatTemplate::builtin("chatml")
                        : ChatTemplate::compile(info.chatTemplate, info.path + ": chat template");
    if (compiled.isOk())
        chatTemplate = std::move(compiled).value();
    else
        chatTemplateError = compiled.status();
}

Result<std::string> Model::renderChat(const std::vector<ChatMessage>& messages,
                                     bool addGenerationPrompt) const {
    if (!m_impl->chatTemplate) return m_impl->chatTemplateError;
    const Tokenizer* tok = m_impl->tokenizer.get();
    const std::string bos = tok && tok->bosId() >= 0 ? tok->tokenName(tok->bosId()) : "";
    const std::string eos = tok && tok->eosId() >= 0 ? tok->tokenName(tok->eosId()) : "";
    return m_impl->chatTemplate->render(messages, addGenerationPrompt, bos, eos);
}

Result<std::vector<int32_t>> Model::encodeChat(const std::vector<ChatMessage>& messages,
                                               bool addGenerationPrompt) const {
    if (!hasTokenizer())
        return Status(StatusCode::InvalidArgument, info().path + ": the model has no tokenizer");
    MOE_ASSIGN_OR_RETURN(std::string text, renderChat(messages, addGenerationPrompt));
    return tokenizer().encode(text, false);
}

} // namespace moe
