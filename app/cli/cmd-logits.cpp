// `moestudio-cli logits`: the logits of every position of a token sequence, as a float32
// [nTok, nVocab] .npy file — for comparing the engine with another implementation (numpy.load).
// One Session::evaluate over all tokens; the expert-policy flags apply as in generate.
#include "cli-args.h"
#include "cli-expert-policy.h"
#include "cli-npy.h"
#include "cli-output.h"
#include "cli-token-input.h"
#include "commands.h"

#include "moe/session.h"

#include <algorithm>
#include <iostream>

int cmdLogits(int argc, char** argv) {
    CliArgs args;
    std::set<std::string> valued = expertPolicyOptions();
    valued.insert({"model", "tokens", "out", "device", "threads"});
    if (!args.parse(argc, argv, valued, {})) return cliUsage("logits: " + args.error());
    const auto modelPath = args.value("model");
    const auto out = args.value("out");
    if (!modelPath || !out || !args.has("tokens") || !args.positional().empty())
        return cliUsage("usage: moestudio-cli logits --model MODEL --tokens 1,2,3 --out FILE.npy "
                        "[--device cpu]\n"
                        "       [--threads N] [--max-experts N] [--threshold X] [--profile NAME]");
    ExpertFlags ef;
    long long threads = 0;
    if (!readExpertFlags(args, ef) || !args.intValue("threads", 0, 1024, threads))
        return cliUsage("logits: " + args.error());

    auto model = moe::Model::load(*modelPath);
    if (!model.isOk()) return cliFail(model.status().message());
    auto ids = readTokenInput(args, **model, false);
    if (!ids.isOk()) return cliFail(ids.status().message());
    auto policy = resolveExpertPolicy(ef, **model);
    if (!policy.isOk()) return cliFail(policy.status().message());
    moe::SessionOptions so;
    so.device = args.value("device", "cpu");
    so.nThreads = int(threads);
    so.nCtx = std::max(int(ids->size()), 1);
    so.expertPolicy = *policy;
    auto session = moe::Session::create(*model, so);
    if (!session.isOk()) return cliFail(session.status().message());
    auto logits = (*session)->evaluate(*ids, false);
    if (!logits.isOk()) return cliFail(logits.status().message());
    const int64_t nTok = int64_t(ids->size()), nVocab = (*model)->spec().nVocab;
    if (moe::Status st = writeNpy(*out, *logits, {nTok, nVocab}); !st.isOk())
        return cliFail(st.message());
    std::cout << *out << ": float32 [" << nTok << ", " << nVocab << "]\n";
    return 0;
}
