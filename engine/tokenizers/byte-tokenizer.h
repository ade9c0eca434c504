// ByteTokenizer: the "moe-bytes" vocabulary of MoE Studio's random and demo-stage models. Every
// token of type BYTE ("<0x41>") stands for one byte; CONTROL tokens ("<s>", "</s>",
// "<|im_start|>", "<|im_end|>") are matched as whole strings in the input. Real BPE and
// SentencePiece vocabularies come with the tokenizer work of issue [2 of 10].
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/status.h"
#include "moe/tokenizer.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace moe {

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

class ByteTokenizer final : public Tokenizer {
public:
    static constexpr const char* kModelName = "moe-bytes";

    // Reads tokenizer.ggml.{tokens, token_type, bos_token_id, eos_token_id, eot_token_id,
    // add_bos_token}; every byte value must have its <0xHH> token.
    static Result<std::unique_ptr<ByteTokenizer>> fromGguf(const gguf::GgufFile& file);

    // The vocabulary written into new models: <unk>, <s>, </s>, 256 byte tokens, ChatML markers.
    static void standardVocabulary(std::vector<std::string>& names, std::vector<int32_t>& types);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial) const override;
    std::string tokenBytes(int32_t id) const override;
    std::string tokenName(int32_t id) const override;
    int32_t vocabSize() const override { return int32_t(m_names.size()); }
    int32_t bosId() const override { return m_bos; }
    int32_t eosId() const override { return m_eos; }
    int32_t eotId() const override { return m_eot; }
    bool isControl(int32_t id) const override;

private:
    std::vector<std::string> m_names;
    std::vector<int32_t> m_types;
    std::vector<int32_t> m_byteOf; // byte value or -1, per id
    std::array<int32_t, 256> m_idOfByte{};
    std::vector<int32_t> m_controlIds; // matched in text, longest first
    int32_t m_bos = -1;
    int32_t m_eos = -1;
    int32_t m_eot = -1;
    bool m_addBos = true;
};

} // namespace moe
