// Internals of convertHfFolder (moe/quantize.h), shared by its two files: convert-hf.cpp (weights
// and hyper-parameter keys) and convert-hf-vocab.cpp (tokenizer keys, §9.10). Each mirrors what
// llama.cpp's convert_hf_to_gguf.py writes, so files we make load in llama.cpp and files it made
// load here the same way.
#pragma once

#include "formats/gguf/gguf-writer.h"
#include "moe/model.h"
#include "moe/status.h"

#include <string>

namespace moe::convert {

// Adds the tokenizer keys of the folder dir for a model described by spec (spec.nVocab rows of
// embeddings): tokenizer.json with a ByteLevel pre-tokenizer -> `gpt2` (tokens, token_type,
// merges, pre, bos/eos, add_bos/add_eos); else tokenizer.model -> `llama` (SentencePiece tokens,
// scores, token_type, bos/eos/unk/pad); no tokenizer files -> tokenizer.ggml.model = "none"
// (llama.cpp's marker for a vocabulary-less model) plus the config's bos/eos ids. The chat
// template, when the folder has one, goes to tokenizer.chat_template. Returns a one-line
// description of what was written. Errors name the file (an unknown pre-tokenizer names the folder
// and the candidates tried).
Result<std::string> addTokenizerKeys(const std::string& dir, const ModelSpec& spec,
                                     gguf::GgufWriter& w);

// The tokenizer.ggml.pre id for tokenizer.json at path: the llama.cpp preset whose regex list
// (BpeTokenizer::presetRegexes) splits a fixed check text into exactly the pieces this file's
// pre-tokenizer does, with the same normalization (NFC only for qwen2). llama.cpp hashes the ids
// of a check text instead; comparing pieces picks the same id for the published tokenizers and
// also works for small vocabularies trained in tests, whose ids hash to nothing known. arch picks
// between presets with one regex ("olmo" for olmoe, else "gpt-2"). Unsupported when none fits.
Result<std::string> detectPreTokenizer(const std::string& tokenizerJsonPath,
                                       const std::string& arch);

} // namespace moe::convert
