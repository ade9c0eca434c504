// loadTokenizer (declared in moe/tokenizer.h): one entry for every tokenizer source a user has —
// a tokenizer.json file, a SentencePiece tokenizer.model, a Hugging Face model folder holding
// either (tokenizer.json first), or a GGUF file, which is dispatched on tokenizer.ggml.model
// ("gpt2" byte-level BPE, "llama"/"t5" SentencePiece, "moe-bytes" ByteTokenizer).
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/tokenizer.h"

#include <memory>

namespace moe {

// The tokenizer of an already opened GGUF file (what model loading uses).
Result<std::unique_ptr<Tokenizer>> loadGgufTokenizer(const gguf::GgufFile& file);

} // namespace moe
