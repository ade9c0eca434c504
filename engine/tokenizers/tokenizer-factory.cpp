// loadTokenizer: path -> Tokenizer, dispatching on what the path is (see tokenizer-factory.h).
#include "tokenizers/tokenizer-factory.h"

#include "tokenizers/bpe-tokenizer.h"
#include "tokenizers/byte-tokenizer.h"
#include "tokenizers/spm-tokenizer.h"

#include <filesystem>

namespace moe {

namespace fs = std::filesystem;

Result<std::unique_ptr<Tokenizer>> loadGgufTokenizer(const gguf::GgufFile& file) {
    const std::string model = file.getString("tokenizer.ggml.model", "");
    if (model == "gpt2") {
        MOE_ASSIGN_OR_RETURN(auto tok, BpeTokenizer::fromGguf(file));
        return std::unique_ptr<Tokenizer>(std::move(tok));
    }
    if (model == ByteTokenizer::kModelName) {
        MOE_ASSIGN_OR_RETURN(auto tok, ByteTokenizer::fromGguf(file));
        return std::unique_ptr<Tokenizer>(std::move(tok));
    }
    if (model == SpmTokenizer::kGgufBpeModel || model == SpmTokenizer::kGgufUnigramModel) {
        MOE_ASSIGN_OR_RETURN(auto tok, SpmTokenizer::fromGguf(file));
        return std::unique_ptr<Tokenizer>(std::move(tok));
    }
    return Status(StatusCode::Unsupported,
                  file.path() + ": tokenizer.ggml.model '" + model +
                      "' is not supported (expected gpt2, llama, t5 or moe-bytes)");
}

Result<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string& path) {
    std::error_code ec;
    fs::path p(path);
    if (fs::is_directory(p, ec)) {
        if (!fs::exists(p / "tokenizer.json", ec)) {
            if (!fs::exists(p / "tokenizer.model", ec))
                return Status(StatusCode::NotFound,
                              path + ": the folder has neither tokenizer.json nor tokenizer.model");
            p /= "tokenizer.model";
        } else {
            p /= "tokenizer.json";
        }
    }
    if (!fs::exists(p, ec)) return Status(StatusCode::NotFound, path + ": no such file");
    if (p.extension() == ".model") {
        MOE_ASSIGN_OR_RETURN(auto tok, SpmTokenizer::fromModelFile(p.string()));
        return std::unique_ptr<Tokenizer>(std::move(tok));
    }
    if (p.extension() == ".json") {
        const fs::path config = p.parent_path() / "tokenizer_config.json";
        MOE_ASSIGN_OR_RETURN(
            auto tok, BpeTokenizer::fromTokenizerJson(
                          p.string(), fs::exists(config, ec) ? config.string() : std::string()));
        return std::unique_ptr<Tokenizer>(std::move(tok));
    }
    MOE_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::open(p.string()));
    return loadGgufTokenizer(file);
}

} // namespace moe
