// SpmTokenizer: SentencePiece vocabularies (Mixtral, Llama 2, Mistral; model-formats.md §10.4)
// encoded and decoded by libsentencepiece itself, so ids match the reference implementation by
// construction. Two sources: a tokenizer.model file, loaded as is, and a GGUF vocabulary
// (tokenizer.ggml.model "llama", or "t5" for unigram vocabularies as llama.cpp names them), from
// which a sentencepiece ModelProto is rebuilt and serialized by hand: Debian ships no
// sentencepiece_model.pb.h, and the few fields we write need no protobuf library.
//
// On top of sentencepiece: CONTROL pieces ("<s>", "<|im_start|>") spelled out in the input are
// matched as whole tokens, like ByteTokenizer and llama.cpp's special-token parsing; each text
// fragment between them is encoded separately (so it gets its own dummy-prefix space, as in
// llama.cpp's SPM path and HF's legacy Llama tokenizer). tokenBytes() returns raw bytes
// ("▁" -> space, "<0xHH>" -> that byte) so TextStreamer can assemble whole UTF-8 characters.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/status.h"
#include "moe/tokenizer.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace moe {

class SpmTokenizer final : public Tokenizer {
public:
    // tokenizer.ggml.model values this class reads.
    static constexpr const char* kGgufBpeModel = "llama";  // SentencePiece BPE (merge by score)
    static constexpr const char* kGgufUnigramModel = "t5"; // SentencePiece unigram (Viterbi)

    ~SpmTokenizer() override;

    // Loads a serialized sentencepiece ModelProto (tokenizer.model). BOS is added on encode
    // (addSpecial) and EOS is not, the Llama/Mixtral rule (§10.5); setAddSpecial() changes it
    // when tokenizer_config.json says otherwise. Fails with the path and sentencepiece's message.
    static Result<std::unique_ptr<SpmTokenizer>> fromModelFile(const std::string& path);

    // Rebuilds the model from tokenizer.ggml.{model, tokens, scores, token_type, bos/eos/unknown/
    // padding/eot_token_id, add_bos_token, add_eos_token, add_space_prefix,
    // remove_extra_whitespaces, precompiled_charsmap} (§9.10). "llama" -> BPE model type,
    // "t5" -> unigram. Missing scores read as 0, missing types as NORMAL, missing ids take
    // llama.cpp's defaults (llama: unk 0, bos 1, eos 2; t5: pad 0, eos 1, unk 2, no bos).
    // Errors name the file and the key or token index.
    static Result<std::unique_ptr<SpmTokenizer>> fromGguf(const gguf::GgufFile& file);

    void setAddSpecial(bool addBos, bool addEos) {
        m_addBos = addBos;
        m_addEos = addEos;
    }
    bool addsBos() const { return m_addBos; }
    bool addsEos() const { return m_addEos; }

    std::vector<int32_t> encode(std::string_view text, bool addSpecial) const override;
    std::string tokenBytes(int32_t id) const override;
    std::string tokenName(int32_t id) const override;
    int32_t vocabSize() const override { return int32_t(m_names.size()); }
    int32_t bosId() const override { return m_bos; }
    int32_t eosId() const override { return m_eos; }
    int32_t eotId() const override { return m_eot; }
    bool isControl(int32_t id) const override;

private:
    SpmTokenizer();
    // Loads the serialized ModelProto into the processor and fills the per-id tables.
    // `origin` names the source in error messages.
    Status load(const std::string& serialized, const std::string& origin);
    // Encodes text that holds no control token (sentencepiece adds the dummy prefix).
    void encodeFragment(std::string_view text, std::vector<int32_t>& out) const;

    std::unique_ptr<sentencepiece::SentencePieceProcessor> m_sp;
    std::vector<std::string> m_names;  // piece per id
    std::vector<int32_t> m_types;      // TokenType per id
    std::vector<std::string> m_bytes;  // tokenBytes per id
    std::vector<int32_t> m_controlIds; // matched in text, longest first
    bool m_controlFirstByte[256] = {};
    int32_t m_bos = -1;
    int32_t m_eos = -1;
    int32_t m_eot = -1;
    bool m_addBos = true;
    bool m_addEos = false;
};

} // namespace moe
