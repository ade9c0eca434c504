// ChatML rendering.
#include "tokenizers/chat-format.h"

namespace moe {

std::string renderChatMl(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) {
    std::string out;
    for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    if (addGenerationPrompt) out += "<|im_start|>assistant\n";
    return out;
}

} // namespace moe
