// libFuzzer target: the whole GGUF loader, Model::load (header, ModelSpec from metadata, tokenizer
// from the vocabulary keys, weight binding with shape and type checks, chat template compile),
// then tokenizing and rendering a short chat with the loaded model.
#include "fuzz-input-file.h"
#include "moe/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = moe::fuzz::writeInputFile(data, size);
    auto model = moe::Model::load(path);
    if (!model.isOk()) return 0;
    const moe::Model& m = *model.value();
    size_t sink = 0;
    if (m.hasTokenizer()) {
        const std::vector<int32_t> ids = m.tokenizer().encode("Hello, world! 東京", true);
        sink += ids.size();
        std::vector<moe::ChatMessage> chat(1);
        chat[0].role = "user";
        chat[0].content = "Hi";
        auto text = m.renderChat(chat, true);
        if (text.isOk()) sink += text.value().size();
    }
    return sink == size_t(-1) ? 1 : 0;
}
