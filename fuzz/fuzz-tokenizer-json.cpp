// libFuzzer target: BpeTokenizer::fromTokenizerJson on an arbitrary tokenizer.json, then encode
// and decode a fixed multilingual text, which compiles and runs the file's pre-tokenizer regexes
// (PCRE2) and its normalizer, added tokens and merges.
#include "fuzz-input-file.h"
#include "tokenizers/bpe-tokenizer.h"

namespace {
const char kText[] = "Hello, world! It's 2024: 3.14 ms\n\n  naïve café — 東京 😀 <|im_start|>user\t";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = moe::fuzz::writeInputFile(data, size);
    auto tok = moe::BpeTokenizer::fromTokenizerJson(path);
    if (!tok.isOk()) return 0;
    const auto& t = *tok.value();
    size_t sink = 0;
    for (bool addSpecial : {false, true}) {
        const std::vector<int32_t> ids = t.encode(kText, addSpecial);
        for (int32_t id : ids)
            sink += t.tokenBytes(id).size() + t.tokenName(id).size();
    }
    return sink == size_t(-1) ? 1 : 0;
}
