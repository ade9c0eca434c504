// Built-in chat formats. v0 renders ChatML (Qwen, OLMoE-instruct and our demo models use it);
// the model's own Jinja chat_template comes with issue [2 of 10].
#pragma once

#include "moe/tokenizer.h"

#include <string>
#include <vector>

namespace moe {

// <|im_start|>role\ncontent<|im_end|>\n ... [<|im_start|>assistant\n]
std::string renderChatMl(const std::vector<ChatMessage>& messages, bool addGenerationPrompt);

} // namespace moe
