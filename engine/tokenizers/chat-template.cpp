// ChatTemplate: compile (lex + parse once) and render (JSON inputs -> Jinja values -> text). The
// interpreter signals errors with JinjaError internally; this file is the boundary where they
// become Status values, so no exception leaves the engine.
#include "moe/chat-template.h"

#include "tokenizers/jinja/jinja-eval.h"
#include "tokenizers/jinja/jinja-lexer.h"
#include "tokenizers/jinja/jinja-parser.h"

#include <nlohmann/json.hpp>

namespace moe {

struct ChatTemplate::Impl {
    std::string source;
    std::string origin;
    jinja::TemplateTree tree;
};

namespace {

jinja::Value fromJson(const nlohmann::ordered_json& j) {
    using jinja::Value;
    switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return Value::integer(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
        jinja::List l;
        for (const auto& x : j) l.push_back(fromJson(x));
        return Value::list(std::move(l));
    }
    case nlohmann::ordered_json::value_t::object: {
        jinja::Dict d;
        for (auto it = j.begin(); it != j.end(); ++it) d.emplace_back(it.key(), fromJson(it.value()));
        return Value::dict(std::move(d));
    }
    default: return Value::none();
    }
}

std::string where(const std::string& origin, const jinja::JinjaError& e) {
    if (e.line <= 0) return origin;
    return origin + " line " + std::to_string(e.line) + ":" + std::to_string(e.col);
}

} // namespace

Result<ChatTemplate> ChatTemplate::compile(const std::string& source, const std::string& origin) {
    auto impl = std::make_shared<Impl>();
    impl->source = source;
    impl->origin = origin;
    try {
        impl->tree = jinja::parse(jinja::lex(source));
    } catch (const jinja::JinjaError& e) {
        return Status(StatusCode::InvalidArgument, where(origin, e) + ": syntax error: " + e.what());
    }
    return ChatTemplate(std::move(impl));
}

Result<ChatTemplate> ChatTemplate::builtin(const std::string& name) {
    const std::string src = builtinSource(name);
    if (src.empty()) {
        std::string names;
        for (const auto& n : builtinNames()) names += (names.empty() ? "" : ", ") + n;
        return Status(StatusCode::NotFound, "no built-in chat template '" + name + "' (have: " + names + ")");
    }
    return compile(src, "built-in chat template '" + name + "'");
}

const std::string& ChatTemplate::source() const { return m_impl->source; }

namespace {

Result<std::string> renderTree(const ChatTemplate::Impl& impl, std::map<std::string, jinja::Value> vars) {
    try {
        jinja::Evaluator ev(std::move(vars));
        return ev.render(impl.tree);
    } catch (const jinja::JinjaError& e) {
        if (e.fromRaise)
            return Status(StatusCode::InvalidArgument,
                          where(impl.origin, e) + ": template raised an exception: " + e.what());
        return Status(StatusCode::InvalidArgument, where(impl.origin, e) + ": " + e.what());
    }
}

// Variables as transformers' render_jinja_template passes them: messages, tools=None,
// documents=None, add_generation_prompt, then the special tokens and any extra kwargs.
std::map<std::string, jinja::Value> baseVars(jinja::Value messages, bool addGenerationPrompt,
                                             const std::string& bos, const std::string& eos) {
    std::map<std::string, jinja::Value> vars;
    vars["messages"] = std::move(messages);
    vars["tools"] = jinja::Value::none();
    vars["documents"] = jinja::Value::none();
    vars["add_generation_prompt"] = jinja::Value::boolean(addGenerationPrompt);
    vars["bos_token"] = jinja::Value::string(bos);
    vars["eos_token"] = jinja::Value::string(eos);
    return vars;
}

} // namespace

Result<std::string> ChatTemplate::render(const ChatTemplateInput& in) const {
    nlohmann::ordered_json messages;
    try {
        messages = nlohmann::ordered_json::parse(in.messagesJson);
    } catch (const std::exception& e) {
        return Status(StatusCode::InvalidArgument, std::string("chat messages: not valid JSON: ") + e.what());
    }
    if (!messages.is_array())
        return Status(StatusCode::InvalidArgument, "chat messages: expected a JSON array of message objects");
    auto vars = baseVars(fromJson(messages), in.addGenerationPrompt, in.bosToken, in.eosToken);
    if (!in.extraJson.empty()) {
        nlohmann::ordered_json extra;
        try {
            extra = nlohmann::ordered_json::parse(in.extraJson);
        } catch (const std::exception& e) {
            return Status(StatusCode::InvalidArgument,
                          std::string("chat template variables: not valid JSON: ") + e.what());
        }
        if (!extra.is_object())
            return Status(StatusCode::InvalidArgument, "chat template variables: expected a JSON object");
        for (auto it = extra.begin(); it != extra.end(); ++it) vars[it.key()] = fromJson(it.value());
    }
    return renderTree(*m_impl, std::move(vars));
}

Result<std::string> ChatTemplate::render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                                         const std::string& bosToken, const std::string& eosToken) const {
    jinja::List list;
    for (const ChatMessage& m : messages)
        list.push_back(jinja::Value::dict(
            {{"role", jinja::Value::string(m.role)}, {"content", jinja::Value::string(m.content)}}));
    return renderTree(*m_impl, baseVars(jinja::Value::list(std::move(list)), addGenerationPrompt, bosToken, eosToken));
}

} // namespace moe
