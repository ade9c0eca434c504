// Model loading: GGUF file or Hugging Face folder -> ModelSpec + ModelInfo + tokenizer + family
// weight views (through a WeightSource, so the family binder is format-blind). Dispatches on
// general.architecture / config.json architectures; the family binder (models/decoder.h) binds the
// weights of the spec's family: gqa-moe, dense or deepseek.
#include "models/model-impl.h"

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

// Reads the hyper-parameters of a llama-arch MoE GGUF (Mixtral) into spec; errors name the key.
static Status readGqaMoeSpec(const gguf::GgufFile& file, ModelSpec& spec) {
    const std::string a = spec.architecture;
    auto getPositive = [&](const std::string& key, int& out) -> Status {
        auto v = file.getInt(key);
        if (!v.isOk()) return v.status();
        if (*v <= 0 || *v > (int64_t(1) << 30))
            return Status(StatusCode::CorruptFile, file.path() + ": " + key + " = " +
                                                       std::to_string(*v) + " is out of range");
        out = int(*v);
        return Status::ok();
    };
    MOE_TRY(getPositive(a + ".embedding_length", spec.nEmbd));
    MOE_TRY(getPositive(a + ".block_count", spec.nLayer));
    MOE_TRY(getPositive(a + ".attention.head_count", spec.nHead));
    spec.nHeadKv = int(file.getInt(a + ".attention.head_count_kv", spec.nHead));
    MOE_TRY(getPositive(a + ".feed_forward_length", spec.nFf));
    MOE_TRY(getPositive(a + ".expert_count", spec.nExpert));
    MOE_TRY(getPositive(a + ".expert_used_count", spec.nExpertUsed));
    spec.nCtxTrain = int(file.getInt(a + ".context_length", 4096));
    spec.ropeTheta = float(file.getNumber(a + ".rope.freq_base", 10000.0));
    spec.rmsEps = float(file.getNumber(a + ".attention.layer_norm_rms_epsilon", 1e-5));
    if (spec.nEmbd % spec.nHead != 0)
        return Status(StatusCode::CorruptFile, file.path() + ": embedding_length " +
                                                   std::to_string(spec.nEmbd) + " is not a multiple of head_count " +
                                                   std::to_string(spec.nHead));
    spec.headDim = int(file.getInt(a + ".attention.key_length", spec.nEmbd / spec.nHead));
    if (spec.nHeadKv <= 0 || spec.nHead % spec.nHeadKv != 0)
        return Status(StatusCode::CorruptFile, file.path() + ": head_count " + std::to_string(spec.nHead) +
                                                   " is not a multiple of head_count_kv " +
                                                   std::to_string(spec.nHeadKv));
    if (spec.nExpertUsed > spec.nExpert)
        return Status(StatusCode::CorruptFile, file.path() + ": expert_used_count " +
                                                   std::to_string(spec.nExpertUsed) + " exceeds expert_count " +
                                                   std::to_string(spec.nExpert));
    if (spec.headDim % 2 != 0 || spec.headDim <= 0)
        return Status(StatusCode::CorruptFile, file.path() + ": head dimension " +
                                                   std::to_string(spec.headDim) + " must be even");
    spec.ropeInterleaved = true; // convert_hf_to_gguf.py permuted q/k rows to interleaved (§9.8)
    spec.nRot = int(file.getInt(a + ".rope.dimension_count", spec.headDim));
    if (spec.nRot != spec.headDim)
        return Status(StatusCode::Unsupported, file.path() + ": " + a + ".rope.dimension_count " +
                                                   std::to_string(spec.nRot) + " differs from the head dimension " +
                                                   std::to_string(spec.headDim) + " (partial rotary is not in this family)");
    spec.normTopkProb = true; // llama-arch MoE: softmax + renormalization (§9.9)
    spec.tieWordEmbeddings = file.tensor("output.weight") == nullptr;
    return Status::ok();
}

static std::string baseName(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<std::unique_ptr<ModelImpl>> ModelImpl::load(const std::string& path) {
    auto impl = std::make_unique<ModelImpl>();
    MOE_ASSIGN_OR_RETURN(impl->file, gguf::GgufFile::open(path));
    const gguf::GgufFile& f = impl->file;
    ModelInfo& info = impl->info;
    info.path = path;
    info.format = "gguf";
    info.formatVersion = f.version();
    info.fileBytes = f.fileSize();
    for (const gguf::MetaEntry& e : f.metadata()) info.metadata.emplace_back(e.key, e.value.display());
    for (const gguf::TensorEntry& t : f.tensors()) {
        TensorInfo ti;
        ti.name = t.name;
        ti.shape.assign(t.ne.rbegin(), t.ne.rend()); // ggml ne -> PyTorch order
        ti.type = gguf::typeName(t.type);
        ti.offset = f.dataOffset() + t.offset;
        ti.bytes = t.bytes;
        info.parameterCount += t.elements;
        info.weightBytes += t.bytes;
        info.tensors.push_back(std::move(ti));
    }

    ModelSpec& spec = info.spec;
    MOE_ASSIGN_OR_RETURN(spec.architecture, f.getString("general.architecture"));
    spec.name = f.getString("general.name", baseName(path));
    const bool isMoe = f.find(spec.architecture + ".expert_count") != nullptr;
    if (spec.architecture == "llama" && isMoe) {
        spec.family = "gqa-moe";
        MOE_TRY(readGqaMoeSpec(f, spec));
    } else {
        return Status(StatusCode::Unsupported,
                      path + ": architecture '" + spec.architecture + "'" +
                          (isMoe ? "" : " without experts") +
                          " is not supported by this build (v0 runs Mixtral-style 'llama' MoE files)");
    }

    MOE_ASSIGN_OR_RETURN(impl->tokenizer, loadGgufTokenizer(f));
    info.chatTemplate = f.getString("tokenizer.chat_template", "");
    spec.nVocab = impl->tokenizer->vocabSize();
    if (auto v = f.getInt(spec.architecture + ".vocab_size", spec.nVocab); v != spec.nVocab)
        return Status(StatusCode::CorruptFile,
                      path + ": " + spec.architecture + ".vocab_size is " + std::to_string(v) +
                          " but the tokenizer has " + std::to_string(spec.nVocab) + " tokens");
    spec.bosId = impl->tokenizer->bosId();
    if (impl->tokenizer->eosId() >= 0) spec.eosIds = {impl->tokenizer->eosId()};
    impl->weightSource = std::make_unique<GgufWeightSource>(impl->file);
    MOE_ASSIGN_OR_RETURN(impl->forward, bindFamily(*impl->weightSource, spec));
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
    MOE_ASSIGN_OR_RETURN(impl->forward, bindFamily(*impl->weightSource, spec));
    return impl;
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(path, ec);
    if (folder && !std::filesystem::exists(path + "/config.json", ec))
        return Status(StatusCode::NotFound, path + ": a folder without config.json is not a Hugging Face model folder");
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<ModelImpl> impl, folder ? ModelImpl::loadHfFolder(path) : ModelImpl::load(path));
    impl->compileChatTemplate();
    return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(impl)));
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
