// `moestudio-cli generate`: one reply streamed to stdout, then the speed line on stderr. With
// --chat the prompt is wrapped in the model's chat format (with --system); with --project the
// run is recorded in the project database (a "generate" run with its config and stats).
#include "cli-args.h"
#include "cli-expert-policy.h"
#include "cli-output.h"
#include "cli-record.h"
#include "cli-run.h"
#include "commands.h"

#include "moe/session.h"

#include <nlohmann/json.hpp>

#include <iostream>

int cmdGenerate(int argc, char** argv) {
    CliArgs args;
    std::set<std::string> valued = samplingOptions();
    valued.insert({"model", "prompt", "system", "project"});
    valued.insert(expertPolicyOptions().begin(), expertPolicyOptions().end());
    if (!args.parse(argc, argv, valued, {"chat", "quiet"})) return cliUsage("generate: " + args.error());
    auto modelPath = args.value("model");
    auto prompt = args.value("prompt");
    if (!modelPath || !prompt || !args.positional().empty())
        return cliUsage("usage: moestudio-cli generate --model MODEL --prompt TEXT [--chat] [--system TEXT]\n"
                        "       [--temperature T] [--top-k K] [--top-p P] [--max-tokens N] [--seed S]\n"
                        "       [--threads N] [--ctx N] [--project DIR] [--quiet]\n"
                        "       [--max-experts N] [--threshold X] [--profile NAME]");
    moe::SamplingParams sp;
    moe::SessionOptions so;
    ExpertFlags ef;
    if (!readSampling(args, sp, so) || !readExpertFlags(args, ef)) return cliUsage("generate: " + args.error());

    CliRun run;
    if (moe::Status st = openRun(args.value("project"), *modelPath, so, run); !st.isOk())
        return cliFail(st.message());
    auto& store = run.store;
    auto policy = resolveExpertPolicy(ef, *run.model);
    if (!policy.isOk()) return cliFail(policy.status().message());
    if (moe::Status st = run.session->setExpertPolicy(*policy); !st.isOk()) return cliFail(st.message());

    if (!run.model->hasTokenizer()) return cliFail(*modelPath + ": the model has no tokenizer to read the prompt");
    std::vector<int32_t> ids;
    if (args.has("chat")) {
        std::vector<moe::ChatMessage> msgs;
        if (auto sys = args.value("system")) msgs.push_back({"system", *sys});
        msgs.push_back({"user", *prompt});
        auto encoded = run.model->encodeChat(msgs, true);
        if (!encoded.isOk()) return cliFail(encoded.status().message());
        ids = std::move(encoded).value();
    } else {
        ids = run.model->tokenizer().encode(*prompt, true);
    }
    int64_t runId = 0;
    if (store) {
        auto modelId = recordModel(*store, *run.model);
        if (!modelId.isOk()) return cliFail(modelId.status().message());
        nlohmann::json config = nlohmann::json::parse(samplingJson(sp));
        config["prompt"] = *prompt;
        config["chat"] = args.has("chat");
        config["device"] = so.device;
        if (policy->active()) config["expert_policy"] = nlohmann::json::parse(expertPolicyJson(*policy).dump());
        auto runRow = store->beginRun("generate", config.dump(), *modelId);
        if (!runRow.isOk()) return cliFail(runRow.status().message());
        runId = *runRow;
    }

    const bool quiet = args.has("quiet");
    auto stats = run.session->generate(ids, sp, [&](const moe::TokenEvent& ev) {
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
