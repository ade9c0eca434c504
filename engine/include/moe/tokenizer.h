// Tokenizer interface and the streaming text decoder. A tokenizer maps text to ids and each id to
// the raw bytes it stands for; TextStreamer assembles those bytes into whole UTF-8 characters so a
// streamed reply never shows half a character.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

struct ChatMessage {
    std::string role; // "system", "user", "assistant"
    std::string content;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // addSpecial: prepend BOS (and append EOS) as the model's rules say.
    virtual std::vector<int32_t> encode(std::string_view text, bool addSpecial) const = 0;
    // The bytes token `id` stands for (empty for control tokens such as BOS/EOS).
    virtual std::string tokenBytes(int32_t id) const = 0;
    // The token's printable name ("<s>", "h", "<0x0A>").
    virtual std::string tokenName(int32_t id) const = 0;
    virtual int32_t vocabSize() const = 0;
    virtual int32_t bosId() const = 0;
    virtual int32_t eosId() const = 0;
    // End-of-turn token of chat formats (<|im_end|>), or -1. Generation stops on it like on EOS.
    virtual int32_t eotId() const { return -1; }
    virtual bool isControl(int32_t id) const = 0;
    // Concatenated bytes of ids (control tokens skipped), then made valid UTF-8.
    std::string decode(const std::vector<int32_t>& ids) const;
};

// The tokenizer of PATH: a tokenizer.json (with tokenizer_config.json beside it when present),
// a model folder holding one, or a GGUF file (dispatched on tokenizer.ggml.model).
Result<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string& path);

// Turns a stream of byte pieces into whole UTF-8 characters. Invalid sequences become U+FFFD.
class TextStreamer {
public:
    // Appends bytes; returns the text that is complete so far (possibly empty).
    std::string push(std::string_view bytes);
    // Returns whatever is pending at the end of a stream (an incomplete tail becomes U+FFFD).
    std::string flush();

private:
    std::string m_pending;
};

} // namespace moe
