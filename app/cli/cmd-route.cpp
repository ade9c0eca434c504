// `moestudio-cli route`: how a MoE model routes a token sequence. One forward over the tokens
// with routing collection on; per MoE layer, per expert token counts, weight sums and the
// load-balance entropy; with --per-token each token's experts and weights. A text table by
// default, JSON with --json (format: docs/expert-policy.md).
#include "cli-args.h"
#include "cli-expert-policy.h"
#include "cli-output.h"
#include "cli-token-input.h"
#include "commands.h"

#include "moe/session.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace {

using json = nlohmann::ordered_json;

json statsJson(const moe::Model& model, const moe::ExpertPolicy& policy,
               const moe::RoutingStats& st, const std::vector<int32_t>& ids, bool perToken) {
    const moe::ModelSpec& s = model.spec();
    json j = {{"model", model.info().path},
              {"n_layer", st.nLayer},
              {"n_expert", st.nExpert},
              {"experts_per_token", policy.maxExperts > 0 ? policy.maxExperts : s.nExpertUsed},
              {"policy", expertPolicyJson(policy)},
              {"tokens", ids},
              {"tokens_seen", st.tokensSeen}};
    json layers = json::array();
    for (int il = 0; il < st.nLayer; ++il) {
        const size_t at = size_t(il) * size_t(st.nExpert);
        std::vector<int64_t> counts(st.tokens.begin() + ptrdiff_t(at),
                                    st.tokens.begin() + ptrdiff_t(at + size_t(st.nExpert)));
        std::vector<double> sums(st.weightSums.begin() + ptrdiff_t(at),
                                 st.weightSums.begin() + ptrdiff_t(at + size_t(st.nExpert)));
        layers.push_back({{"layer", il},
                          {"moe", bool(st.moeLayer[size_t(il)])},
                          {"assignments", st.layerAssignments(il)},
                          {"expert_tokens", counts},
                          {"weight_sums", sums},
                          {"entropy", st.loadEntropy(il)},
                          {"entropy_normalized", st.normalizedLoadEntropy(il)}});
    }
    j["layers"] = layers;
    if (perToken) {
        json toks = json::array();
        for (size_t t = 0; t < st.perToken.size(); ++t) {
            const moe::TokenRouting& tr = st.perToken[t];
            json tl = json::array();
            for (int il = 0; il < st.nLayer; ++il) {
                if (!st.moeLayer[size_t(il)]) continue;
                std::vector<int32_t> ex;
                std::vector<float> w;
                for (int k = 0; k < tr.k; ++k) {
                    const size_t at = size_t(il) * size_t(tr.k) + size_t(k);
                    if (tr.experts[at] < 0) continue;
                    ex.push_back(tr.experts[at]);
                    w.push_back(tr.weights[at]);
                }
                tl.push_back({{"layer", il}, {"experts", ex}, {"weights", w}});
            }
            toks.push_back(
                {{"index", t}, {"token", tr.token}, {"position", tr.position}, {"layers", tl}});
        }
        j["per_token"] = toks;
    }
    return j;
}

void printTable(const moe::Model& model, const moe::ExpertPolicy& policy,
                const moe::RoutingStats& st, bool perToken) {
    const moe::ModelSpec& s = model.spec();
    std::printf("model %s: %d layers, %d experts, %d per token\n", s.name.c_str(), st.nLayer,
                st.nExpert, s.nExpertUsed);
    std::printf("policy: max_experts %d, threshold %g, profile %s\n", policy.maxExperts,
                double(policy.threshold), policy.profile.empty() ? "none" : policy.profile.c_str());
    std::printf("tokens: %lld\n", static_cast<long long>(st.tokensSeen));
    for (int il = 0; il < st.nLayer; ++il) {
        if (!st.moeLayer[size_t(il)]) {
            std::printf("\nlayer %d: dense\n", il);
            continue;
        }
        const int64_t total = st.layerAssignments(il);
        std::printf("\nlayer %d: %lld assignments, load entropy %.4f nats (%.3f of ln %d)\n", il,
                    static_cast<long long>(total), st.loadEntropy(il), st.normalizedLoadEntropy(il),
                    st.nExpert);
        std::printf("  %6s %8s %7s %12s %11s\n", "expert", "tokens", "share", "weight_sum",
                    "mean_weight");
        for (int e = 0; e < st.nExpert; ++e) {
            const size_t at = size_t(il) * size_t(st.nExpert) + size_t(e);
            const int64_t c = st.tokens[at];
            std::printf("  %6d %8lld %6.1f%% %12.6f %11.6f\n", e, static_cast<long long>(c),
                        total > 0 ? 100.0 * double(c) / double(total) : 0.0, st.weightSums[at],
                        c > 0 ? st.weightSums[at] / double(c) : 0.0);
        }
    }
    if (!perToken) return;
    std::printf("\nper token (expert:weight per MoE layer)\n");
    for (size_t t = 0; t < st.perToken.size(); ++t) {
        const moe::TokenRouting& tr = st.perToken[t];
        std::printf("  %4zu id %-7d", t, tr.token);
        for (int il = 0; il < st.nLayer; ++il) {
            if (!st.moeLayer[size_t(il)]) continue;
            std::printf(" | L%d", il);
            for (int k = 0; k < tr.k; ++k) {
                const size_t at = size_t(il) * size_t(tr.k) + size_t(k);
                if (tr.experts[at] >= 0)
                    std::printf(" %d:%.3f", tr.experts[at], double(tr.weights[at]));
            }
        }
        std::printf("\n");
    }
}

} // namespace

int cmdRoute(int argc, char** argv) {
    CliArgs args;
    std::set<std::string> valued = expertPolicyOptions();
    valued.insert({"model", "tokens", "prompt", "threads"});
    if (!args.parse(argc, argv, valued, {"per-token", "json"}))
        return cliUsage("route: " + args.error());
    const auto modelPath = args.value("model");
    if (!modelPath || !args.positional().empty())
        return cliUsage(
            "usage: moestudio-cli route --model MODEL (--tokens 1,2,3 | --prompt TEXT) "
            "[--per-token]\n"
            "       [--max-experts N] [--threshold X] [--profile NAME] [--json] [--threads N]");
    ExpertFlags ef;
    long long threads = 0;
    if (!readExpertFlags(args, ef) || !args.intValue("threads", 0, 1024, threads))
        return cliUsage("route: " + args.error());

    auto model = moe::Model::load(*modelPath);
    if (!model.isOk()) return cliFail(model.status().message());
    if ((*model)->spec().nExpert <= 0)
        return cliFail(*modelPath + ": a dense model has no routing to report");
    auto ids = readTokenInput(args, **model, true);
    if (!ids.isOk()) return cliFail(ids.status().message());
    auto policy = resolveExpertPolicy(ef, **model);
    if (!policy.isOk()) return cliFail(policy.status().message());
    const bool perToken = args.has("per-token");
    moe::SessionOptions so;
    so.nThreads = int(threads);
    so.nCtx = std::max(int(ids->size()), 1);
    so.expertPolicy = *policy;
    so.collectRouting = true;
    so.collectTokenRouting = perToken;
    auto session = moe::Session::create(*model, so);
    if (!session.isOk()) return cliFail(session.status().message());
    auto logits = (*session)->evaluate(*ids, true);
    if (!logits.isOk()) return cliFail(logits.status().message());
    const moe::RoutingStats st = (*session)->routingStats();
    if (args.has("json"))
        std::cout << statsJson(**model, *policy, st, *ids, perToken).dump(2) << "\n";
    else
        printTable(**model, *policy, st, perToken);
    return 0;
}
