// Chat templates: a model's own Jinja chat_template (tokenizer_config.json, or the GGUF key
// tokenizer.chat_template), rendered byte for byte as transformers' apply_chat_template renders it
// with jinja2 (trim_blocks, lstrip_blocks, loopcontrols, raise_exception, HF's tojson). Built-in
// named templates (copied verbatim from published tokenizer_config.json files) are the fallback.
#pragma once

#include "moe/status.h"
#include "moe/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace moe {

struct ChatTemplateInput {
    // JSON array of messages: {"role", "content", optional "tool_calls", "reasoning_content", ...}.
    std::string messagesJson = "[]";
    bool addGenerationPrompt = true;
    std::string bosToken;
    std::string eosToken;
    // JSON object of further variables (tools, enable_thinking, ...); empty = none. As in HF,
    // `tools` and `documents` are defined and none unless given here.
    std::string extraJson;
};

class ChatTemplate {
public:
    // Parses a template. Errors: InvalidArgument naming `origin`, line:col and what was expected.
    static Result<ChatTemplate> compile(const std::string& source, const std::string& origin = "chat template");
    // A built-in template by name (see builtinNames()); NotFound otherwise.
    static Result<ChatTemplate> builtin(const std::string& name);
    static std::vector<std::string> builtinNames();
    // The verbatim source of a built-in template, or empty.
    static std::string builtinSource(const std::string& name);

    // Renders. Errors: InvalidArgument for malformed JSON input; a template's raise_exception(msg)
    // or a runtime error comes back with the message and the template line:col. Thread-safe.
    Result<std::string> render(const ChatTemplateInput& input) const;
    Result<std::string> render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                               const std::string& bosToken = "", const std::string& eosToken = "") const;

    const std::string& source() const;

    struct Impl;

private:
    explicit ChatTemplate(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}
    std::shared_ptr<const Impl> m_impl;
};

} // namespace moe
