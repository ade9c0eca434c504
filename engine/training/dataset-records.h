// Dataset records in the four formats (moe/dataset.h) turned into one shape: a conversation of
// role/content turns, or a plain-text document. Conversion is strict: a missing key, a wrong type,
// an unknown role or an empty conversation is an error whose message says which key and what was
// expected (the caller prefixes the file and line). Format detection reads the first record's keys.
#pragma once

#include "moe/dataset.h"
#include "training/dataset-reader.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace moe::dataset {

struct Turn {
    std::string role; // "system", "user", "assistant"
    std::string content;
    bool train = true; // assistant turns: false when the record says so (OpenAI "weight": 0)
};

struct Record {
    int64_t index = 0;
    std::vector<Turn> turns; // chat formats
    std::string text;        // PlainText
};

// The format whose keys the first record carries (messages, conversations, instruction, text);
// a Text file is PlainText. InvalidArgument (naming the keys found) when none fits.
Result<DatasetFormat> formatOfRecord(const RecordReader& reader, const RawRecord& first);

// Converts a raw record of `format` (not Auto). Errors: InvalidArgument whose message has no
// location ("'conversations' must be an array, got string").
Status convertRecord(const RawRecord& raw, DatasetFormat format, FileKind kind, Record& out);

// The turns as the chat template takes them.
std::vector<ChatMessage> toChatMessages(const std::vector<Turn>& turns);

} // namespace moe::dataset
