// SessionImpl: what a Session holds — the model, its compute backend (own CPU backend or the
// model's shared GPU binding), the scratch, the KV cache, the cached tokens, the expert policy and
// routing statistics — shared by session.cpp (generation) and session-state.cpp (state files).
#pragma once

#include "models/ffn.h"
#include "models/model-impl.h"
#include "moe/routing-stats.h"
#include "moe/session.h"
#include "runtime/kv-cache.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace moe {

class SessionImpl {
public:
    // Session state files (session-state.cpp).
    Status saveState(const std::string& path) const;
    Status restoreState(const std::string& path);

    std::shared_ptr<const Model> model;
    // Runs this session's forwards: its own CPU backend, or the model's shared GPU binding.
    std::unique_ptr<ComputeBackend> ownBackend;
    ModelImpl::DeviceBinding* gpu = nullptr;
    const FamilyForward* forward = nullptr;
    std::string device;
    std::unique_ptr<Workspace> ws;
    ComputeBackend& backend() const { return ws->backend(); }
    KvCache cache; // in the backend's memory: declared after it, destroyed before it
    bool reusePrefix = true;
    std::vector<int32_t> cached; // the tokens whose K/V rows are in the cache, in order
    int slidingWindow = -1;
    ExpertPolicy policy;         // every row in the cache was computed under this policy
    bool collectRouting = false;
    bool collectTokenRouting = false;
    RoutingStats stats; // sized at create(); counts accumulate per forward

    void clearStats() {
        const ModelSpec& s = model->spec();
        stats = RoutingStats{};
        stats.nLayer = s.nLayer;
        stats.nExpert = s.nExpert;
        stats.tokens.assign(size_t(s.nLayer) * size_t(std::max(s.nExpert, 0)), 0);
        stats.weightSums.assign(stats.tokens.size(), 0.0);
        stats.moeLayer.resize(size_t(s.nLayer));
        for (int il = 0; il < s.nLayer; ++il) stats.moeLayer[size_t(il)] = isMoeLayer(s, il);
    }

    // Adds one forward's routing (tokens at positions pos0..) to stats.
    void accumulate(const RoutingCounts& rc, std::span<const int32_t> tokens, int pos0) {
        for (size_t i = 0; i < rc.counts.size() && i < stats.tokens.size(); ++i) {
            stats.tokens[i] += rc.counts[i];
            stats.weightSums[i] += rc.weightSums[i];
        }
        stats.tokensSeen += int64_t(tokens.size());
        if (!collectTokenRouting) return;
        const int nTok = int(tokens.size());
        const int nLayer = stats.nLayer;
        const int k = rc.k;
        for (int t = 0; t < nTok; ++t) {
            TokenRouting tr;
            tr.token = tokens[size_t(t)];
            tr.position = pos0 + t;
            tr.k = k;
            tr.experts.assign(size_t(nLayer) * size_t(k), -1);
            tr.weights.assign(tr.experts.size(), 0.0f);
            // rc rows are [nLayer, nTok, k] (empty when the model has no MoE layer).
            if (rc.tokenIds.size() == size_t(nLayer) * size_t(nTok) * size_t(k))
                for (int il = 0; il < nLayer; ++il)
                    for (int j = 0; j < k; ++j) {
                        const size_t src = (size_t(il) * size_t(nTok) + size_t(t)) * size_t(k) + size_t(j);
                        tr.experts[size_t(il) * size_t(k) + size_t(j)] = rc.tokenIds[src];
                        tr.weights[size_t(il) * size_t(k) + size_t(j)] = rc.tokenWeights[src];
                    }
            stats.perToken.push_back(std::move(tr));
        }
    }

    Result<std::vector<float>> evaluate(std::span<const int32_t> tokens, bool lastOnly) {
        const int nPast = int(cached.size());
        if (nPast + int(tokens.size()) > cache.capacity())
            return Status(StatusCode::InvalidArgument,
                          "context full: " + std::to_string(nPast) + " cached + " +
                              std::to_string(tokens.size()) + " new tokens exceed the context size " +
                              std::to_string(cache.capacity()));
        std::vector<float> logits;
        ForwardContext ctx;
        ctx.ws = ws.get();
        ctx.policy = &policy;
        ctx.slidingWindow = slidingWindow;
        RoutingCounts rc;
        rc.perToken = collectTokenRouting;
        if (collectRouting || collectTokenRouting) ctx.routing = &rc;
        if (gpu) {
            std::lock_guard<std::mutex> guard(gpu->lock);
            MOE_TRY(forward->forward(cache, tokens, nPast, lastOnly, logits, ctx));
        } else {
            MOE_TRY(forward->forward(cache, tokens, nPast, lastOnly, logits, ctx));
        }
        if (ctx.routing) accumulate(rc, tokens, nPast);
        cached.insert(cached.end(), tokens.begin(), tokens.end());
        return logits;
    }
};

} // namespace moe
