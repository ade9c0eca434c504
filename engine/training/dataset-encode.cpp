// Chat records into masked token sequences, and plain text into windows (dataset-encode.h).
//
// A conversation is rendered whole (addGenerationPrompt false) into text T and tokenized once, so
// the sequence equals what the model sees in a chat. The tokens of the k-th assistant reply are
// found by rendering two prefixes of the conversation:
//   P = the messages before the reply, with the generation prompt  -> where the reply starts
//   F = the messages up to and including the reply                  -> where it ends
// Both are tokenized; the reply starts at the longest common token prefix of P and T (equal to
// |P| tokens unless a merge crosses the boundary) and ends at that of F and T. Within the span,
// tokens after the last end-of-turn/EOS token (the "\n" ChatML writes after <|im_end|>) stay
// untrained. Templates that render a reply differently once later messages follow (Qwen3 drops
// the <think> block from earlier replies) make F no prefix of T: the reply then ends at the first
// end-of-turn/EOS token after its start. P must always be a text prefix of T, else the template is
// not incremental and the reply cannot be located (an error: train all tokens instead).
#include "training/dataset-encode.h"

#include <algorithm>

namespace moe::dataset {

namespace {

bool startsWith(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

size_t commonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

Status refused(const Status& s) {
    return Status(StatusCode::InvalidArgument,
                  "the chat template refuses the conversation: " + s.message());
}

} // namespace

EncodeContext::EncodeContext(const Tokenizer& tok, const ChatTemplate& tmpl,
                             const DatasetOptions& opts)
    : tokenizer(tok), chatTemplate(tmpl), options(opts) {
    if (tok.bosId() >= 0) bosToken = tok.tokenName(tok.bosId());
    if (tok.eosId() >= 0) eosToken = tok.tokenName(tok.eosId());
    if (tok.eotId() >= 0) endIds.push_back(tok.eotId());
    if (tok.eosId() >= 0 && tok.eosId() != tok.eotId()) endIds.push_back(tok.eosId());
}

Status encodeConversation(const EncodeContext& ctx, const std::vector<Turn>& turns,
                          TrainingExample& out) {
    const std::vector<ChatMessage> messages = toChatMessages(turns);
    auto render = [&](size_t n, bool generationPrompt) {
        const std::vector<ChatMessage> head(messages.begin(), messages.begin() + std::ptrdiff_t(n));
        return ctx.chatTemplate.render(head, generationPrompt, ctx.bosToken, ctx.eosToken);
    };
    auto whole = render(messages.size(), false);
    if (!whole.isOk()) return refused(whole.status());
    const std::string& text = *whole;
    out.tokens = ctx.tokenizer.encode(text, false);
    out.labels.assign(out.tokens.size(), kDatasetIgnoreLabel);
    out.truncated = false;

    if (!ctx.options.assistantOnlyLoss) {
        out.labels = out.tokens;
    } else {
        auto isEnd = [&](int32_t id) {
            return std::find(ctx.endIds.begin(), ctx.endIds.end(), id) != ctx.endIds.end();
        };
        size_t cursor = 0; // tokens before it belong to earlier replies or their prompts
        int reply = 0;
        for (size_t i = 0; i < messages.size(); ++i) {
            if (messages[i].role != "assistant") continue;
            ++reply;
            const std::string which = "assistant message " + std::to_string(reply);
            auto prompt = render(i, true);
            if (!prompt.isOk()) return refused(prompt.status());
            if (!startsWith(text, *prompt))
                return Status(
                    StatusCode::InvalidArgument,
                    "the chat template renders the messages before " + which +
                        " differently from the whole conversation, so its reply cannot be "
                        "located; train on all tokens instead (assistant-only loss off)");
            const size_t begin =
                std::max(cursor, commonPrefix(ctx.tokenizer.encode(*prompt, false), out.tokens));
            auto upTo = render(i + 1, false);
            if (!upTo.isOk()) return refused(upTo.status());
            size_t end = 0;
            if (upTo->size() > prompt->size() && startsWith(text, *upTo)) {
                end = commonPrefix(ctx.tokenizer.encode(*upTo, false), out.tokens);
                // Keep the reply through its last end token; what follows it is layout.
                for (size_t t = end; t > begin; --t) {
                    if (isEnd(out.tokens[t - 1])) {
                        end = t;
                        break;
                    }
                }
            }
            if (end <= begin) { // rendered differently as history: up to the first end token
                size_t t = begin;
                while (t < out.tokens.size() && !isEnd(out.tokens[t]))
                    ++t;
                if (t == out.tokens.size())
                    return Status(
                        StatusCode::InvalidArgument,
                        "cannot find where " + which +
                            " ends: the template renders it differently when later messages "
                            "follow and no end-of-turn token follows it");
                end = t + 1;
            }
            if (turns[i].train)
                std::copy(out.tokens.begin() + std::ptrdiff_t(begin),
                          out.tokens.begin() + std::ptrdiff_t(end),
                          out.labels.begin() + std::ptrdiff_t(begin));
            cursor = end;
        }
    }
    const size_t maxLen = size_t(std::max(ctx.options.maxSeqLen, 1));
    if (out.tokens.size() > maxLen) {
        out.tokens.resize(maxLen);
        out.labels.resize(maxLen);
        out.truncated = true;
    }
    return Status::ok();
}

void encodeText(const EncodeContext& ctx, const std::string& text, int64_t record,
                std::vector<TrainingExample>& out) {
    if (text.empty()) { // nothing to learn: an empty example, dropped by the caller
        out.push_back({{}, {}, record, false});
        return;
    }
    std::vector<int32_t> ids = ctx.tokenizer.encode(text, true);
    const int32_t eos = ctx.tokenizer.eosId();
    if (eos >= 0 && (ids.empty() || ids.back() != eos)) ids.push_back(eos);
    const size_t window = size_t(std::max(ctx.options.maxSeqLen, 2));
    for (size_t start = 0;; start += window - 1) {
        const size_t stop = std::min(ids.size(), start + window);
        TrainingExample ex;
        ex.tokens.assign(ids.begin() + std::ptrdiff_t(start), ids.begin() + std::ptrdiff_t(stop));
        ex.labels = ex.tokens;
        ex.record = record;
        out.push_back(std::move(ex));
        if (stop == ids.size()) break;
    }
}

int64_t trainedTokens(const TrainingExample& example) {
    int64_t n = 0;
    for (size_t t = 1; t < example.labels.size(); ++t)
        n += example.labels[t] != kDatasetIgnoreLabel;
    return n;
}

} // namespace moe::dataset
