// Routing statistics: which experts a session's forwards routed tokens to, and with what weights.
// A Session accumulates them over every forward it runs while collection is on
// (SessionOptions::collectRouting); the experts view, ESFT expert selection, benchmark reports and
// `moestudio-cli route` read them. Counts are token-expert assignments: a MoE layer that routes
// each token to k experts adds k per token (fewer under a threshold policy).
#pragma once

#include <cstdint>
#include <vector>

namespace moe {

// One token's routing in every layer (collected on request: SessionOptions::collectTokenRouting).
struct TokenRouting {
    int32_t token = 0;            // the token id
    int position = 0;             // its position in the session's context
    int k = 0;                    // expert slots per layer
    std::vector<int32_t> experts; // [nLayer * k]: chosen expert ids, -1 for a dropped slot and for
                                  // every slot of a dense layer
    std::vector<float> weights;   // [nLayer * k]: their routing weights (0 where the id is -1)
};

struct RoutingStats {
    int nLayer = 0;
    int nExpert = 0;
    std::vector<int64_t> tokens; // [nLayer * nExpert], index il * nExpert + e: tokens routed to e
    std::vector<double> weightSums; // [nLayer * nExpert]: the sum of those tokens' routing weights
    int64_t tokensSeen = 0;         // tokens run through the model while collecting
    std::vector<bool> moeLayer;     // [nLayer]: the layer routes (dense layers' rows stay 0)
    std::vector<TokenRouting> perToken; // in evaluation order (empty unless collected per token)

    // Tokens layer il routed in all (the sum of its row; tokensSeen x k for a MoE layer without a
    // threshold, 0 for a dense layer).
    int64_t layerAssignments(int il) const;
    // Load-balance entropy of layer il: -sum_e p_e ln p_e over p_e = tokens[il, e] / assignments,
    // in nats; ln(nExpert) when every expert got the same share, 0 for one expert or no tokens.
    double loadEntropy(int il) const;
    // loadEntropy / ln(nExpert) in [0, 1] (0 when nExpert < 2).
    double normalizedLoadEntropy(int il) const;
};

} // namespace moe
