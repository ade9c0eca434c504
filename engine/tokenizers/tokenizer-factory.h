// loadTokenizer (declared in moe/tokenizer.h): one entry for every tokenizer source a user has —
// a tokenizer.json file, a Hugging Face model folder holding one, or a GGUF file, which is
// dispatched on tokenizer.ggml.model ("gpt2" byte-level BPE, "moe-bytes" ByteTokenizer).
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "moe/tokenizer.h"

#include <memory>

namespace moe {

// The tokenizer of an already opened GGUF file (what model loading uses).
Result<std::unique_ptr<Tokenizer>> loadGgufTokenizer(const gguf::GgufFile& file);

} // namespace moe
