// libFuzzer target: ChatTemplate::compile on arbitrary template text, then render with a fixed
// small conversation (system, user, assistant with a tool call, user) and a tools list.
#include "moe/chat-template.h"

#include <cstdint>
#include <string>

namespace {
const char kMessages[] = R"([
  {"role": "system", "content": "You are brief."},
  {"role": "user", "content": "Hi <b>there</b> & \"you\""},
  {"role": "assistant", "content": "", "reasoning_content": "think",
   "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [2.5, null]}}}]},
  {"role": "tool", "content": "{\"ok\": true}"},
  {"role": "user", "content": "Thanks 東京 😀"}
])";
const char kExtra[] =
    R"({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
  "enable_thinking": false})";
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string source(reinterpret_cast<const char*>(data), size);
    auto tmpl = moe::ChatTemplate::compile(source, "fuzz");
    if (!tmpl.isOk()) return 0;
    moe::ChatTemplateInput in;
    in.messagesJson = kMessages;
    in.bosToken = "<s>";
    in.eosToken = "</s>";
    in.extraJson = kExtra;
    auto out = tmpl.value().render(in);
    in.addGenerationPrompt = false;
    in.extraJson.clear();
    auto out2 = tmpl.value().render(in);
    return (out.isOk() && out2.isOk() && out.value().size() == size_t(-1)) ? 1 : 0;
}
