// ByteTokenizer: byte tokens plus control tokens matched as literal strings.
#include "tokenizers/byte-tokenizer.h"

#include <algorithm>
#include <cstdio>

namespace moe {

void ByteTokenizer::standardVocabulary(std::vector<std::string>& names, std::vector<int32_t>& types) {
    names = {"<unk>", "<s>", "</s>"};
    types = {int32_t(TokenType::Unknown), int32_t(TokenType::Control), int32_t(TokenType::Control)};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        names.push_back(buf);
        types.push_back(int32_t(TokenType::Byte));
    }
    for (const char* s : {"<|im_start|>", "<|im_end|>"}) {
        names.push_back(s);
        types.push_back(int32_t(TokenType::Control));
    }
}

Result<std::unique_ptr<ByteTokenizer>> ByteTokenizer::fromGguf(const gguf::GgufFile& file) {
    const std::string& path = file.path();
    const gguf::MetaValue* tokens = file.find("tokenizer.ggml.tokens");
    const gguf::MetaValue* types = file.find("tokenizer.ggml.token_type");
    if (!tokens || tokens->type != gguf::ValueType::Array ||
        tokens->elemType != gguf::ValueType::String)
        return Status(StatusCode::CorruptFile,
                      path + ": tokenizer.ggml.tokens is missing or not an array of strings");
    if (!types || types->type != gguf::ValueType::Array || types->items.size() != tokens->items.size())
        return Status(StatusCode::CorruptFile,
                      path + ": tokenizer.ggml.token_type is missing or its length differs from "
                             "tokenizer.ggml.tokens (" + std::to_string(tokens->items.size()) + ")");
    auto tok = std::make_unique<ByteTokenizer>();
    tok->m_idOfByte.fill(-1);
    const size_t n = tokens->items.size();
    tok->m_names.reserve(n);
    tok->m_byteOf.assign(n, -1);
    for (size_t id = 0; id < n; ++id) {
        tok->m_names.push_back(tokens->items[id].s);
        auto t = types->items[id].asInt();
        if (!t)
            return Status(StatusCode::CorruptFile, path + ": tokenizer.ggml.token_type[" +
                                                       std::to_string(id) + "] is not an integer");
        tok->m_types.push_back(int32_t(*t));
        const std::string& name = tok->m_names.back();
        if (*t == int64_t(TokenType::Byte)) {
            unsigned v = 0;
            if (name.size() != 6 || std::sscanf(name.c_str(), "<0x%2X>", &v) != 1)
                return Status(StatusCode::CorruptFile, path + ": byte token " + std::to_string(id) +
                                                           " is named '" + name + "', expected <0xHH>");
            tok->m_byteOf[id] = int32_t(v);
            if (tok->m_idOfByte[v] < 0) tok->m_idOfByte[v] = int32_t(id);
        } else if (*t == int64_t(TokenType::Control) || *t == int64_t(TokenType::UserDefined)) {
            if (!name.empty()) tok->m_controlIds.push_back(int32_t(id));
        }
    }
    for (int b = 0; b < 256; ++b)
        if (tok->m_idOfByte[b] < 0)
            return Status(StatusCode::CorruptFile,
                          path + ": the moe-bytes vocabulary has no token for byte " + std::to_string(b));
    std::sort(tok->m_controlIds.begin(), tok->m_controlIds.end(), [&](int32_t a, int32_t b) {
        return tok->m_names[a].size() > tok->m_names[b].size();
    });
    auto idKey = [&](const char* key, int32_t& out) -> Status {
        if (!file.find(key)) return Status::ok();
        auto v = file.getInt(key);
        if (!v.isOk()) return v.status();
        if (*v < 0 || *v >= int64_t(n))
            return Status(StatusCode::CorruptFile, path + ": " + key + " = " + std::to_string(*v) +
                                                       " is outside the vocabulary (" + std::to_string(n) + ")");
        out = int32_t(*v);
        return Status::ok();
    };
    MOE_TRY(idKey("tokenizer.ggml.bos_token_id", tok->m_bos));
    MOE_TRY(idKey("tokenizer.ggml.eos_token_id", tok->m_eos));
    MOE_TRY(idKey("tokenizer.ggml.eot_token_id", tok->m_eot));
    if (const gguf::MetaValue* v = file.find("tokenizer.ggml.add_bos_token")) tok->m_addBos = v->u != 0;
    return tok;
}

std::vector<int32_t> ByteTokenizer::encode(std::string_view text, bool addSpecial) const {
    std::vector<int32_t> ids;
    ids.reserve(text.size() + 1);
    if (addSpecial && m_addBos && m_bos >= 0) ids.push_back(m_bos);
    size_t i = 0;
    while (i < text.size()) {
        bool matched = false;
        if (text[i] == '<') {
            for (int32_t id : m_controlIds) {
                const std::string& name = m_names[size_t(id)];
                if (text.compare(i, name.size(), name) == 0) {
                    ids.push_back(id);
                    i += name.size();
                    matched = true;
                    break;
                }
            }
        }
        if (!matched) ids.push_back(m_idOfByte[static_cast<unsigned char>(text[i++])]);
    }
    return ids;
}

std::string ByteTokenizer::tokenBytes(int32_t id) const {
    if (id < 0 || size_t(id) >= m_names.size()) return {};
    if (m_byteOf[size_t(id)] >= 0) return std::string(1, char(m_byteOf[size_t(id)]));
    if (m_types[size_t(id)] == int32_t(TokenType::UserDefined)) return m_names[size_t(id)];
    return {};
}

std::string ByteTokenizer::tokenName(int32_t id) const {
    if (id < 0 || size_t(id) >= m_names.size()) return "<invalid " + std::to_string(id) + ">";
    return m_names[size_t(id)];
}

bool ByteTokenizer::isControl(int32_t id) const {
    return id >= 0 && size_t(id) < m_types.size() && m_types[size_t(id)] == int32_t(TokenType::Control);
}

} // namespace moe
