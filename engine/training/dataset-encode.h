// Records into training examples: chat conversations rendered with the chat template and masked
// so only assistant replies are trained; plain text cut into windows. See dataset-encode.cpp for
// how assistant spans are found.
#pragma once

#include "moe/chat-template.h"
#include "moe/dataset.h"
#include "training/dataset-records.h"

#include <string>
#include <vector>

namespace moe::dataset {

struct EncodeContext {
    EncodeContext(const Tokenizer& tok, const ChatTemplate& tmpl, const DatasetOptions& opts);

    const Tokenizer& tokenizer;
    const ChatTemplate& chatTemplate;
    const DatasetOptions& options;
    std::string bosToken; // the tokenizer's BOS/EOS names, as the template's bos_token/eos_token
    std::string eosToken;
    std::vector<int32_t>
        endIds; // end-of-turn and end-of-sequence ids (a reply's last trained token)
};

// One conversation into one example (truncated to maxSeqLen, `truncated` set). Errors
// (InvalidArgument, no location): the template refuses the conversation, or renders it in a way
// that hides where a reply starts or ends.
Status encodeConversation(const EncodeContext& ctx, const std::vector<Turn>& turns,
                          TrainingExample& out);

// One document into windows of at most maxSeqLen tokens that overlap by one token, so every token
// after the first is a target exactly once. Appends to out.
void encodeText(const EncodeContext& ctx, const std::string& text, int64_t record,
                std::vector<TrainingExample>& out);

// Targets of an example: positions t >= 1 whose label is not ignored.
int64_t trainedTokens(const TrainingExample& example);

} // namespace moe::dataset
