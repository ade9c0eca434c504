// BpeTokenizer::fromGguf: GGUF `gpt2` vocabularies (model-formats.md §9.10). Tokens are in the
// byte-level alphabet, merges are "left right" strings in rank order, CONTROL tokens are special
// added tokens and USER_DEFINED ones plain added tokens (both matched in the text first). The
// pre-tokenizer is the Split list llama.cpp uses for tokenizer.ggml.pre (§10.3), followed by a
// ByteLevel mapping. Qwen2's tokenizer.json also applies NFC; the `qwen2` preset does too, for
// parity with HF (llama.cpp does not).
// Every regex here is pure ASCII: non-ASCII code points are written as PCRE2 `\x{....}` escapes,
// because literal characters do not survive Unicode normalization (an NFC pass once turned the
// deepseek-llm class's U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126 and U+212A into their canonical
// equivalents, leaving ranges out of order; test-bpe-presets guards this).
#include "tokenizers/bpe-tokenizer.h"

#include "tokenizers/byte-tokenizer.h"

namespace moe {

std::vector<std::string> BpeTokenizer::presetRegexes(const std::string& pre) {
    if (pre == "deepseek-v3")
        return {
            R"re(\p{N}{1,3})re", R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re",
            R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
    if (pre == "deepseek-llm")
        return {
            R"re([\r\n])re",
            R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)re",
            R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re",
            R"re(\s+$)re",
            R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re",
            R"re(\p{N}+)re"};
    if (pre == "qwen2")
        return {
            R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
    if (pre == "gpt-2" || pre == "olmo" || pre == "gpt2")
        return {
            R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re"};
    if (pre == "llama-bpe" || pre == "llama3")
        return {
            R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
    if (pre == "deepseek-coder")
        return {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re",
                R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re", R"re(\p{N})re"};
    if (pre == "default" || pre.empty())
        return {R"re([\p{P}\$\+<=>\^~\|]+)re",
                R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
                R"re(\p{N}+)re", R"re([0-9][0-9][0-9])re"};
    return {};
}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::fromGguf(const gguf::GgufFile& file) {
    const std::string& path = file.path();
    const std::string model = file.getString("tokenizer.ggml.model", "");
    if (model != "gpt2")
        return Status(StatusCode::InvalidArgument, path + ": tokenizer.ggml.model is '" + model +
                                                       "', expected 'gpt2' for byte-level BPE");
    const gguf::MetaValue* tokens = file.find("tokenizer.ggml.tokens");
    if (!tokens || tokens->type != gguf::ValueType::Array ||
        tokens->elemType != gguf::ValueType::String)
        return Status(StatusCode::CorruptFile,
                      path + ": tokenizer.ggml.tokens is missing or not an array of strings");
    const gguf::MetaValue* types = file.find("tokenizer.ggml.token_type");
    if (types &&
        (types->type != gguf::ValueType::Array || types->items.size() != tokens->items.size()))
        return Status(StatusCode::CorruptFile,
                      path + ": tokenizer.ggml.token_type is not an array of " +
                          std::to_string(tokens->items.size()) + " integers");
    const gguf::MetaValue* merges = file.find("tokenizer.ggml.merges");
    if (!merges || merges->type != gguf::ValueType::Array ||
        merges->elemType != gguf::ValueType::String)
        return Status(StatusCode::CorruptFile,
                      path + ": tokenizer.ggml.merges is missing or not an array of strings");
    const std::string pre = file.getString("tokenizer.ggml.pre", "default");
    const std::vector<std::string> regexes = presetRegexes(pre);
    if (regexes.empty())
        return Status(StatusCode::Unsupported,
                      path + ": tokenizer.ggml.pre '" + pre +
                          "' has no known pre-tokenizer (known: deepseek-v3, deepseek-llm, "
                          "deepseek-coder, qwen2, llama-bpe, gpt-2, olmo, default)");

    auto tok = std::unique_ptr<BpeTokenizer>(new BpeTokenizer());
    const size_t n = tokens->items.size();
    tok->m_names.reserve(n);
    for (size_t id = 0; id < n; ++id) {
        const std::string& name = tokens->items[id].s;
        tok->m_names.push_back(name);
        int64_t type = int64_t(TokenType::Normal);
        if (types) {
            auto t = types->items[id].asInt();
            if (!t)
                return Status(StatusCode::CorruptFile, path + ": tokenizer.ggml.token_type[" +
                                                           std::to_string(id) +
                                                           "] is not an integer");
            type = *t;
        }
        if (type == int64_t(TokenType::Control) || type == int64_t(TokenType::UserDefined)) {
            if (name.empty()) continue;
            AddedToken a;
            a.content = name;
            a.id = int32_t(id);
            a.special = type == int64_t(TokenType::Control);
            tok->m_added.push_back(std::move(a));
        } else if (type != int64_t(TokenType::Unused)) {
            tok->m_vocab.emplace(name, int32_t(id)); // first id wins for duplicated spellings
        }
    }
    for (size_t k = 0; k < merges->items.size(); ++k) {
        const std::string& s = merges->items[k].s;
        const size_t sp = s.find(' ', 1);
        if (sp == std::string::npos)
            return Status(StatusCode::CorruptFile, path + ": tokenizer.ggml.merges[" +
                                                       std::to_string(k) + "] '" + s +
                                                       "' is not \"left right\"");
        const std::string a = s.substr(0, sp), b = s.substr(sp + 1);
        auto ia = tok->m_vocab.find(a), ib = tok->m_vocab.find(b), im = tok->m_vocab.find(a + b);
        if (ia == tok->m_vocab.end() || ib == tok->m_vocab.end() || im == tok->m_vocab.end())
            return Status(StatusCode::CorruptFile,
                          path + ": tokenizer.ggml.merges[" + std::to_string(k) + "] '" + s +
                              "' uses or makes a token missing from tokenizer.ggml.tokens");
        tok->m_merges.emplace(pairKey(ia->second, ib->second), Merge{int32_t(k), im->second});
    }
    for (const std::string& re : regexes) {
        auto r = Regex::compile(re);
        if (!r.isOk())
            return Status(r.status().code(),
                          path + ": tokenizer.ggml.pre '" + pre + "': " + r.status().message());
        tok->m_pre.addSplit(std::move(r).value(), SplitBehavior::Isolated, false);
    }
    MOE_TRY(tok->m_pre.addByteLevel(false, false));
    if (pre == "qwen2") tok->m_normalizer.add({Normalizer::Step::Kind::Nfc, {}, {}});
    tok->m_byteLevelDecode = true;

    auto idKey = [&](const char* key, int32_t& out) -> Status {
        if (!file.find(key)) return Status::ok();
        auto v = file.getInt(key);
        if (!v.isOk()) return v.status();
        if (*v < 0 || *v >= int64_t(n))
            return Status(StatusCode::CorruptFile, path + ": " + key + " = " + std::to_string(*v) +
                                                       " is outside the vocabulary (" +
                                                       std::to_string(n) + ")");
        out = int32_t(*v);
        return Status::ok();
    };
    MOE_TRY(idKey("tokenizer.ggml.bos_token_id", tok->m_bos));
    MOE_TRY(idKey("tokenizer.ggml.eos_token_id", tok->m_eos));
    MOE_TRY(idKey("tokenizer.ggml.eot_token_id", tok->m_eot));
    MOE_TRY(idKey("tokenizer.ggml.unknown_token_id", tok->m_unk));
    if (tok->m_eot < 0)
        for (const AddedToken& a : tok->m_added)
            if (a.content == "<|im_end|>" || a.content == "<|eot_id|>") tok->m_eot = a.id;
    const gguf::MetaValue* addBos = file.find("tokenizer.ggml.add_bos_token");
    const gguf::MetaValue* addEos = file.find("tokenizer.ggml.add_eos_token");
    if (addBos && addBos->u != 0 && tok->m_bos >= 0) tok->m_prefix.push_back(tok->m_bos);
    if (addEos && addEos->u != 0 && tok->m_eos >= 0) tok->m_suffix.push_back(tok->m_eos);
    MOE_TRY(tok->finish(path));
    return tok;
}

} // namespace moe
