// BpeTokenizer: byte-level BPE as HF `tokenizers` runs it (model-formats.md §10.1-10.2, §10.5):
// added tokens split out first (leftmost-longest; non-normalized ones on the raw text, normalized
// ones after the normalizer), normalizer, pre-tokenizer, then BPE merges by rank (lowest rank,
// then leftmost) on vocabulary ids, with a per-piece cache; BOS/EOS from the post-processor or
// tokenizer_config.json. Two loaders build the same object: tokenizer.json (+ tokenizer_config)
// and GGUF `gpt2` vocabularies (pre-tokenizer chosen by tokenizer.ggml.pre).
// encode() is const and thread-safe (the cache is behind a mutex).
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/status.h"
#include "moe/tokenizer.h"
#include "tokenizers/normalizer.h"
#include "tokenizers/pretokenizer.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace moe {

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool special = false;    // control token: skipped when decoding, isControl()
    bool lstrip = false;     // swallow whitespace on its left
    bool rstrip = false;     // swallow whitespace on its right
    bool singleWord = false; // only match when not inside a word
    bool normalized = false; // matched on normalized text
};

class BpeTokenizer final : public Tokenizer {
public:
    // tokenizerJson: path of a tokenizer.json; configJson: tokenizer_config.json or empty.
    // Fails with Unsupported naming the component for a model, normalizer, pre-tokenizer or
    // post-processor type this engine does not implement.
    static Result<std::unique_ptr<BpeTokenizer>>
    fromTokenizerJson(const std::string& tokenizerJson, const std::string& configJson = {});
    // tokenizer.ggml.model must be "gpt2"; tokenizer.ggml.pre picks the regex list of §10.3.
    static Result<std::unique_ptr<BpeTokenizer>> fromGguf(const gguf::GgufFile& file);

    // The Split regexes llama.cpp uses for a tokenizer.ggml.pre id; empty if unknown.
    static std::vector<std::string> presetRegexes(const std::string& pre);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial) const override;
    std::string tokenBytes(int32_t id) const override;
    std::string tokenName(int32_t id) const override;
    int32_t vocabSize() const override { return int32_t(m_names.size()); }
    int32_t bosId() const override { return m_bos; }
    int32_t eosId() const override { return m_eos; }
    int32_t eotId() const override { return m_eot; }
    bool isControl(int32_t id) const override;

    // Ids the post-processor puts around a sequence when addSpecial is true.
    const std::vector<int32_t>& prefixIds() const { return m_prefix; }
    const std::vector<int32_t>& suffixIds() const { return m_suffix; }

private:
    struct Merge {
        int32_t rank;
        int32_t id; // the merged token
    };
    static uint64_t pairKey(int32_t a, int32_t b) {
        return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
    }

    // BPE of one pre-tokenized piece (already in the model's alphabet), appended to out.
    void encodePiece(const std::string& piece, std::vector<int32_t>& out) const;
    void mergePiece(const std::string& piece, std::vector<int32_t>& out) const;
    // Splits text at added tokens of the given kind (normalized or not); segments with id -1
    // are plain text.
    void splitAdded(const std::string& text, bool normalizedPass,
                    std::vector<std::pair<std::string, int32_t>>& out) const;
    // Builds lookup structures after the loader filled the fields; checks ids.
    Status finish(const std::string& source);

    std::vector<std::string> m_names;                 // id -> token string (model alphabet)
    std::unordered_map<std::string, int32_t> m_vocab; // token string -> id (model vocab)
    std::unordered_map<uint64_t, Merge> m_merges;     // (left id, right id) -> merge
    std::vector<AddedToken> m_added;
    std::vector<std::vector<size_t>> m_addedByFirstByte; // indices into m_added, longest first
    std::vector<uint8_t> m_special;                      // per id: special added token
    std::vector<uint8_t> m_addedPlain;                   // per id: non-special added token
    Normalizer m_normalizer;
    PreTokenizer m_pre;
    bool m_byteLevelDecode = true;
    bool m_ignoreMerges = false;
    bool m_byteFallback = false;
    bool m_fuseUnk = false;
    int32_t m_unk = -1;
    std::vector<int32_t> m_prefix, m_suffix;
    int32_t m_bos = -1, m_eos = -1, m_eot = -1;

    mutable std::mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> m_cache;
};

} // namespace moe
