// `moestudio-cli template`: renders a messages JSON with a chat template — the model's own
// (--model), a Jinja file (--template) or a built-in (--builtin) — and prints the text exactly, so
// a user can see what the model is fed (and compare it with transformers' apply_chat_template).
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/chat-template.h"
#include "moe/model.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace {

bool readFile(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

} // namespace

int cmdTemplate(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "template", "builtin", "messages", "bos", "eos", "extra"},
                    {"no-generation-prompt", "list"}))
        return cliUsage("template: " + args.error());
    if (args.has("list")) {
        for (const std::string& name : moe::ChatTemplate::builtinNames()) std::cout << name << "\n";
        return 0;
    }
    const int sources = int(args.has("model")) + int(args.has("template")) + int(args.has("builtin"));
    auto messagesPath = args.value("messages");
    if (sources != 1 || !messagesPath || !args.positional().empty())
        return cliUsage("usage: moestudio-cli template (--model PATH | --template FILE.jinja | --builtin NAME)\n"
                        "       --messages FILE.json [--no-generation-prompt] [--bos S] [--eos S]\n"
                        "       [--extra JSON]   (variables such as {\"enable_thinking\": false})\n"
                        "       moestudio-cli template --list");
    moe::ChatTemplateInput input;
    if (!readFile(*messagesPath, input.messagesJson)) return cliFail(*messagesPath + ": cannot read");
    input.addGenerationPrompt = !args.has("no-generation-prompt");
    input.extraJson = args.value("extra", "");

    std::optional<moe::ChatTemplate> tmpl;
    if (auto modelPath = args.value("model")) {
        auto model = moe::Model::load(*modelPath);
        if (!model.isOk()) return cliFail(model.status().message());
        const moe::ModelInfo& info = (*model)->info();
        auto compiled = info.chatTemplate.empty() ? moe::ChatTemplate::builtin("chatml")
                                                  : moe::ChatTemplate::compile(info.chatTemplate, *modelPath);
        if (!compiled.isOk()) return cliFail(compiled.status().message());
        tmpl = std::move(compiled).value();
        if ((*model)->hasTokenizer()) {
            const moe::Tokenizer& tok = (*model)->tokenizer();
            if (tok.bosId() >= 0) input.bosToken = tok.tokenName(tok.bosId());
            if (tok.eosId() >= 0) input.eosToken = tok.tokenName(tok.eosId());
        }
        if (info.chatTemplate.empty()) std::cerr << "(the model has no chat template: built-in chatml)\n";
    } else if (auto file = args.value("template")) {
        std::string source;
        if (!readFile(*file, source)) return cliFail(*file + ": cannot read");
        auto compiled = moe::ChatTemplate::compile(source, *file);
        if (!compiled.isOk()) return cliFail(compiled.status().message());
        tmpl = std::move(compiled).value();
    } else {
        auto compiled = moe::ChatTemplate::builtin(*args.value("builtin"));
        if (!compiled.isOk()) return cliFail(compiled.status().message());
        tmpl = std::move(compiled).value();
    }
    input.bosToken = args.value("bos", input.bosToken);
    input.eosToken = args.value("eos", input.eosToken);
    auto text = tmpl->render(input);
    if (!text.isOk()) return cliFail(text.status().message());
    std::cout << *text << std::flush;
    return 0;
}
