// Fine-tuning datasets: files users already have (Alpaca, ShareGPT, OpenAI messages, plain text)
// read into tokenized examples with HF-style labels, a validation split, statistics, micro-batches
// under a token budget, and a cheap preview for the fine-tune wizard.
//
// Chat records are rendered with the model's chat template and tokenized with its tokenizer, so a
// trained conversation looks exactly like the prompt the model later sees in a chat. Loading is
// strict: the first malformed record stops it with an InvalidArgument naming the file, the line
// (JSONL) or record (JSON array) and what was wrong, so a run never starts on half a dataset.
#pragma once

#include "moe/chat-template.h"
#include "moe/status.h"
#include "moe/tokenizer.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

// The label of a position that is not trained (PyTorch's ignore_index; ops::kIgnoreLabel).
constexpr int32_t kDatasetIgnoreLabel = -100;

enum class DatasetFormat {
    Auto,     // detect from the file: extension and the first record's keys
    Alpaca,   // {"instruction", "input"?, "output", "system"?, "history"?: [[user, assistant]]}
    ShareGpt, // {"conversations": [{"from": "human"|"gpt"|"system", "value"}], "system"?}
    OpenAiMessages, // {"messages": [{"role": "system"|"user"|"assistant", "content", "weight"?}]}
    PlainText,      // a .txt file (one document) or JSONL {"text": ...} (one document a line)
};

// "auto", "alpaca", "sharegpt", "openai", "text".
const char* datasetFormatName(DatasetFormat format);
// Accepts the names above (and "messages", "plain" as aliases); InvalidArgument otherwise.
Result<DatasetFormat> parseDatasetFormat(std::string_view name);

struct DatasetOptions {
    DatasetFormat format = DatasetFormat::Auto;
    int maxSeqLen = 2048;          // longer examples are truncated; plain text is cut into windows
    bool assistantOnlyLoss = true; // chat formats: train assistant replies only (false: all tokens)
    double validationFraction = 0; // [0, 1): records held out, chosen by a seeded shuffle
    std::string validationPath;    // or a separate validation file (not both)
    uint64_t seed = 42;
    std::string systemPrompt; // system message added to chat records that have none; empty: none
    // Called now and then with the fraction of the file read; returning false cancels (Cancelled).
    std::function<bool(double fraction)> progress;
};

// One training sequence. labels[t] == tokens[t] where position t is trained, else
// kDatasetIgnoreLabel; UNSHIFTED (the trainer predicts labels[t + 1] from position t).
struct TrainingExample {
    std::vector<int32_t> tokens;
    std::vector<int32_t> labels;
    int64_t record = 0; // 1-based line (JSONL, .txt) or record index (JSON array) it came from
    bool truncated = false;
};

// Counts of one split. Trained tokens are targets: positions t >= 1 whose label is not ignored
// (nothing predicts position 0). Truncated examples are among `examples`; dropped ones (no
// trained token left) are not. With a validation fraction, dropped examples count in the
// training stats (they are dropped before the split).
struct DatasetStats {
    int64_t records = 0;  // records read (JSON objects, text lines or documents)
    int64_t examples = 0; // sequences kept
    int64_t totalTokens = 0;
    int64_t trainedTokens = 0;
    int64_t truncated = 0;
    int64_t dropped = 0;
    int64_t longest = 0; // tokens of the longest example
};

struct TokenizedDataset {
    DatasetFormat format = DatasetFormat::Auto;           // as detected (never Auto)
    DatasetFormat validationFormat = DatasetFormat::Auto; // of validationPath, when given
    std::vector<TrainingExample> train;
    std::vector<TrainingExample> validation;
    DatasetStats trainStats;
    DatasetStats validationStats;
};

// Reads, renders, tokenizes, masks, truncates and splits the dataset at path. chatTemplate may be
// null: chat formats then use the built-in "chatml" (as a model without a template does). The
// template gets the tokenizer's BOS/EOS names as bos_token/eos_token and the rendered text is
// encoded without added specials, so BOS appears exactly where the template puts it. Plain text
// is encoded with the tokenizer's specials (BOS as its rules say) plus EOS at each document's end.
// Errors: NotFound (no file), InvalidArgument (malformed record: "FILE:LINE: what" or
// "FILE: record N: what"; unknown format; bad options), Cancelled (progress returned false).
Result<TokenizedDataset> loadDataset(const std::string& path, const Tokenizer& tokenizer,
                                     const ChatTemplate* chatTemplate,
                                     const DatasetOptions& options);

// The format a file holds, from its extension and first record. InvalidArgument names the keys
// found when none of the formats fits.
Result<DatasetFormat> detectDatasetFormat(const std::string& path);

struct DatasetPreviewRecord {
    int64_t record = 0;                // 1-based line or record index
    std::vector<ChatMessage> messages; // plain text: one message with role "text"
};

struct DatasetPreview {
    DatasetFormat format = DatasetFormat::Auto; // detected
    std::vector<DatasetPreviewRecord> records;
    bool complete = false; // the file holds no more records than these
};

// The detected format and the first maxRecords records as messages, reading only what they need
// (a JSON array is parsed up to its maxRecords-th element; a .txt file shows its first 4 KiB).
// A malformed record among them is an error as in loadDataset.
Result<DatasetPreview> previewDataset(const std::string& path, int maxRecords,
                                      DatasetFormat format = DatasetFormat::Auto);

// Groups example indices into micro-batches whose summed token count stays within tokensPerBatch
// (an example longer than the budget gets a batch of its own). packing: first-fit decreasing
// (longest examples first, each into the first batch with room), then the batch order shuffled
// if asked; otherwise examples in order (shuffled first if asked), a batch closed when the next
// does not fit. Every index appears exactly once. Deterministic for a seed.
std::vector<std::vector<int>> makeBatches(const std::vector<TrainingExample>& examples,
                                          int tokensPerBatch, bool packing, uint64_t seed,
                                          bool shuffle);

// A micro-batch laid out as one token stream: the examples one after the other, each its own
// sequence (positions restart at 0; attention must not cross sequenceStarts boundaries).
struct PackedBatch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> labels;         // unshifted, as in TrainingExample
    std::vector<int32_t> positions;      // 0.. within each sequence
    std::vector<int32_t> sequenceStarts; // offsets of each sequence, plus the total at the end
    int64_t trainedTokens = 0;           // targets, as DatasetStats counts them
};

PackedBatch packBatch(const std::vector<TrainingExample>& examples, const std::vector<int>& batch);

} // namespace moe
