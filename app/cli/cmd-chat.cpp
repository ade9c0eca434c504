// `moestudio-cli chat`: interactive multi-turn chat on stdin/stdout. Each turn renders the whole
// conversation with the model's chat format and streams the reply. With --project every turn
// is recorded (a chat session with its messages, sampling parameters and stats).
// Commands at the prompt: /reset (new conversation), /exit.
#include "cli-args.h"
#include "cli-expert-policy.h"
#include "cli-output.h"
#include "cli-record.h"
#include "cli-run.h"
#include "commands.h"

#include "moe/session.h"

#include <iostream>

int cmdChat(int argc, char** argv) {
    CliArgs args;
    std::set<std::string> valued = samplingOptions();
    valued.insert({"model", "system", "project"});
    valued.insert(expertPolicyOptions().begin(), expertPolicyOptions().end());
    if (!args.parse(argc, argv, valued, {})) return cliUsage("chat: " + args.error());
    auto modelPath = args.value("model");
    if (!modelPath || !args.positional().empty())
        return cliUsage("usage: moestudio-cli chat --model MODEL [--system TEXT] [sampling] [--project DIR]\n"
                        "       [--max-experts N] [--threshold X] [--profile NAME]");
    moe::SamplingParams sp;
    moe::SessionOptions so;
    ExpertFlags ef;
    if (!readSampling(args, sp, so) || !readExpertFlags(args, ef)) return cliUsage("chat: " + args.error());

    CliRun run;
    if (moe::Status st = openRun(args.value("project"), *modelPath, so, run); !st.isOk())
        return cliFail(st.message());
    auto& store = run.store;
    auto policy = resolveExpertPolicy(ef, *run.model);
    if (!policy.isOk()) return cliFail(policy.status().message());
    if (moe::Status st = run.session->setExpertPolicy(*policy); !st.isOk()) return cliFail(st.message());

    const std::string system = args.value("system", "");
    std::vector<moe::ChatMessage> history;
    if (!system.empty()) history.push_back({"system", system});
    int64_t modelId = 0, chatId = 0;
    if (store) {
        auto id = recordModel(*store, *run.model);
        if (!id.isOk()) return cliFail(id.status().message());
        modelId = *id;
    }
    std::cerr << "chat with " << run.model->spec().name << " — /reset starts over, /exit quits\n";
    std::string line;
    uint64_t turn = 0;
    while (std::cout << "> " << std::flush, std::getline(std::cin, line)) {
        if (line == "/exit" || line == "/quit") break;
        if (line == "/reset") {
            history.resize(system.empty() ? 0 : 1);
            chatId = 0;
            continue;
        }
        if (line.empty()) continue;
        history.push_back({"user", line});
        moe::SamplingParams turnParams = sp;
        turnParams.seed = sp.seed + turn++; // a new draw each turn, reproducible from --seed
        auto prompt = run.model->encodeChat(history, true);
        if (!prompt.isOk()) return cliFail(prompt.status().message());
        auto stats = run.session->generate(*prompt, turnParams, [&](const moe::TokenEvent& ev) {
            std::cout << terminalSafe(ev.text) << std::flush;
            return true;
        });
        std::cout << "\n";
        if (!stats.isOk()) return cliFail(stats.status().message());
        std::cerr << "[moestudio] " << statsLine(*stats) << "\n";
        history.push_back({"assistant", stats->text});
        if (store) {
            if (chatId == 0) {
                auto id = store->createChatSession(modelId, line.substr(0, 60), system);
                if (!id.isOk()) return cliFail(id.status().message());
                chatId = *id;
            }
            moe::projects::MessageRecord user;
            user.sessionId = chatId;
            user.role = "user";
            user.content = line;
            moe::projects::MessageRecord reply;
            reply.sessionId = chatId;
            reply.role = "assistant";
            reply.content = stats->text;
            reply.samplingJson = samplingJson(turnParams);
            reply.seed = turnParams.seed;
            reply.promptTokens = stats->promptTokens;
            reply.generatedTokens = stats->generatedTokens;
            reply.ttftMs = stats->ttftMs;
            reply.tokensPerSecond = stats->decodeTokPerSec;
            reply.stopReason = moe::stopReasonName(stats->stopReason);
            reply.device = so.device;
            for (const auto* m : {&user, &reply}) {
                auto id = store->addMessage(*m);
                if (!id.isOk()) return cliFail(id.status().message());
            }
        }
    }
    return 0;
}
