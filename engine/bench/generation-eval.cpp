// Generation tasks (moe/evals.h): each prompt answered greedily from an empty KV cache, the reply
// cut at the first stop string, then scored against the item's answer by exact match (stripped),
// containment or an ECMAScript regex. Greedy decoding makes the replies, and so the score,
// reproducible.
#include "bench/eval-common.h"

#include <regex>

namespace moe {

namespace {

std::string strip(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return {};
    const size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

// The reply before the first stop string (npos when none occurs).
size_t stopAt(const std::string& text, const std::vector<std::string>& until) {
    size_t cut = std::string::npos;
    for (const std::string& u : until)
        if (!u.empty()) cut = std::min(cut, text.find(u));
    return cut;
}

} // namespace

Result<std::vector<GenerationItem>> readGenerationItems(const std::string& file) {
    MOE_ASSIGN_OR_RETURN(std::vector<evals::JsonlLine> lines, evals::readJsonl(file));
    std::vector<GenerationItem> items;
    for (const evals::JsonlLine& l : lines) {
        const std::string at = file + ":" + std::to_string(l.line) + ": ";
        GenerationItem it;
        it.line = l.line;
        if (!l.value.contains("prompt") || !l.value["prompt"].is_string())
            return Status(StatusCode::InvalidArgument, at + "\"prompt\" must be a string");
        it.prompt = l.value["prompt"].get<std::string>();
        if (!l.value.contains("answer"))
            return Status(StatusCode::InvalidArgument, at + "\"answer\" is missing");
        const nlohmann::json& a = l.value["answer"];
        if (a.is_string())
            it.answer = a.get<std::string>();
        else if (a.is_number())
            it.answer = a.dump();
        else
            return Status(StatusCode::InvalidArgument,
                          at + "\"answer\" must be a string or a number");
        items.push_back(std::move(it));
    }
    return items;
}

Result<bool> scoreGeneration(const std::string& scoring, const std::string& output,
                             const std::string& answer) {
    if (scoring == "exact_match") return strip(output) == strip(answer);
    if (scoring == "contains") return output.find(strip(answer)) != std::string::npos;
    if (scoring == "regex") {
        try {
            return std::regex_search(output, std::regex(answer, std::regex::ECMAScript));
        } catch (const std::regex_error& e) {
            return Status(StatusCode::InvalidArgument,
                          "regex \"" + answer + "\" does not compile: " + e.what());
        }
    }
    return Status(StatusCode::InvalidArgument,
                  "scoring \"" + scoring + "\" is not one of exact_match, contains, regex");
}

Result<GenerationResult> evalGenerationItems(std::shared_ptr<const Model> model,
                                             std::span<const GenerationItem> items,
                                             const GenerationConfig& config,
                                             const EvalOptions& options,
                                             const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "generation: no model");
    MOE_TRY(evals::requireTokenizer(*model, "generation"));
    MOE_TRY(scoreGeneration(config.scoring, "", "").status());
    if (config.maxTokens < 1)
        return Status(StatusCode::InvalidArgument, "generation: max_tokens must be >= 1");
    if (config.limit > 0 && size_t(config.limit) < items.size())
        items = items.first(size_t(config.limit));
    if (items.empty()) return Status(StatusCode::InvalidArgument, "generation: no items");

    std::vector<std::vector<int32_t>> prompts;
    int longest = 1;
    for (const GenerationItem& it : items) {
        std::vector<int32_t> ids;
        if (config.chat) {
            MOE_ASSIGN_OR_RETURN(ids,
                                 model->encodeChat({{.role = "user", .content = it.prompt}}, true));
        } else {
            ids = model->tokenizer().encode(it.prompt, true);
        }
        if (ids.empty())
            return Status(StatusCode::InvalidArgument,
                          "generation: line " + std::to_string(it.line) + ": empty prompt");
        longest = std::max(longest, int(ids.size()) + config.maxTokens);
        prompts.push_back(std::move(ids));
    }
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                         evals::makeSession(model, options, longest));

    SamplingParams greedy;
    greedy.temperature = 0;
    greedy.topK = 0;
    greedy.topP = 1;
    greedy.maxTokens = config.maxTokens;
    GenerationResult r;
    int64_t correct = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        MOE_TRY(evals::checkProgress(progress, "generation", int64_t(i), int64_t(items.size())));
        session->reset();
        std::string text;
        MOE_ASSIGN_OR_RETURN(GenerationStats st,
                             session->generate(prompts[i], greedy, [&](const TokenEvent& ev) {
                                 text += ev.text;
                                 return stopAt(text, config.until) == std::string::npos;
                             }));
        GenerationItemResult ir;
        ir.output = st.text;
        if (const size_t cut = stopAt(ir.output, config.until); cut != std::string::npos)
            ir.output.resize(cut);
        ir.generatedTokens = st.generatedTokens;
        auto ok = scoreGeneration(config.scoring, ir.output, items[i].answer);
        if (!ok.isOk())
            return Status(ok.status().code(), "generation: line " + std::to_string(items[i].line) +
                                                  ": " + ok.status().message());
        ir.correct = *ok;
        correct += ir.correct ? 1 : 0;
        r.perItem.push_back(std::move(ir));
    }
    r.items = int64_t(items.size());
    r.score = double(correct) / double(r.items);
    return r;
}

Result<GenerationResult> evalGeneration(std::shared_ptr<const Model> model,
                                        const std::string& jsonlFile,
                                        const GenerationConfig& config, const EvalOptions& options,
                                        const EvalProgress& progress) {
    MOE_ASSIGN_OR_RETURN(std::vector<GenerationItem> items, readGenerationItems(jsonlFile));
    auto r = evalGenerationItems(std::move(model), items, config, options, progress);
    if (!r.isOk()) return Status(r.status().code(), jsonlFile + ": " + r.status().message());
    return r;
}

} // namespace moe
