// `moestudio-cli generate`: one reply streamed to stdout, then the speed line on stderr. With
// --chat the prompt is wrapped in the model's chat format (with --system); with --project the
// run is recorded in the project database (a "generate" run with its config and stats).
#include "cli-args.h"
#include "cli-output.h"
#include "cli-record.h"
#include "commands.h"

#include "moe/session.h"

#include <nlohmann/json.hpp>

#include <iostream>

int cmdGenerate(int argc, char** argv) {
    CliArgs args;
    std::set<std::string> valued = samplingOptions();
    valued.insert({"model", "prompt", "system", "project"});
    if (!args.parse(argc, argv, valued, {"chat", "quiet"})) return cliUsage("generate: " + args.error());
    auto modelPath = args.value("model");
    auto prompt = args.value("prompt");
    if (!modelPath || !prompt || !args.positional().empty())
        return cliUsage("usage: moestudio-cli generate --model MODEL --prompt TEXT [--chat] [--system TEXT]\n"
                        "       [--temperature T] [--top-k K] [--top-p P] [--max-tokens N] [--seed S]\n"
                        "       [--threads N] [--ctx N] [--project DIR] [--quiet]");
    moe::SamplingParams sp;
    moe::SessionOptions so;
    if (!readSampling(args, sp, so)) return cliUsage("generate: " + args.error());

    std::unique_ptr<moe::projects::ProjectStore> store;
    if (auto dir = args.value("project")) {
        auto opened = moe::projects::ProjectStore::open(*dir);
        if (!opened.isOk()) return cliFail(opened.status().message());
        store = std::move(opened).value();
    }
    auto model = moe::Model::load(*modelPath);
    if (!model.isOk()) return cliFail(model.status().message());
    auto session = moe::Session::create(*model, so);
    if (!session.isOk()) return cliFail(session.status().message());

    std::string text = *prompt;
    if (args.has("chat")) {
        std::vector<moe::ChatMessage> msgs;
        if (auto sys = args.value("system")) msgs.push_back({"system", *sys});
        msgs.push_back({"user", *prompt});
        text = (*model)->renderChat(msgs, true);
    }
    int64_t runId = 0;
    if (store) {
        auto modelId = recordModel(*store, **model);
        if (!modelId.isOk()) return cliFail(modelId.status().message());
        nlohmann::json config = nlohmann::json::parse(samplingJson(sp));
        config["prompt"] = *prompt;
        config["chat"] = args.has("chat");
        config["device"] = so.device;
        auto run = store->beginRun("generate", config.dump(), *modelId);
        if (!run.isOk()) return cliFail(run.status().message());
        runId = *run;
    }

    const bool quiet = args.has("quiet");
    auto stats = (*session)->generateText(text, sp, [&](const moe::TokenEvent& ev) {
        if (!quiet) std::cout << terminalSafe(ev.text) << std::flush;
        return true;
    });
    if (!quiet) std::cout << "\n";
    if (!stats.isOk()) {
        if (store) (void)store->finishRun(runId, "failed", nlohmann::json{{"error", stats.status().message()}}.dump());
        return cliFail(stats.status().message());
    }
    std::cerr << "[moestudio] " << statsLine(*stats) << "\n";
    if (store) {
        nlohmann::json result = {{"text", stats->text},
                                 {"prompt_tokens", stats->promptTokens},
                                 {"generated_tokens", stats->generatedTokens},
                                 {"ttft_ms", stats->ttftMs},
                                 {"prefill_tok_s", stats->prefillTokPerSec},
                                 {"decode_tok_s", stats->decodeTokPerSec},
                                 {"stop_reason", moe::stopReasonName(stats->stopReason)}};
        moe::Status st = store->finishRun(runId, "completed", result.dump());
        if (!st.isOk()) return cliFail(st.message());
    }
    return 0;
}
