// Expert policy: how a session overrides a MoE model's routing, per forward pass.
//
//   logits' = router logits + domain bias[layer][expert]     (a named bias profile; 0: none)
//   (a sigmoid router's scores saturate at 1, so there the bias also enters the selection score,
//    beside e_score_correction_bias: a large bias selects an expert under every router)
//   choose the model's way (softmax/sigmoid, groups, ...) with k' = maxExperts (0: the model's k)
//   keep, in descending weight order, the fewest chosen experts whose weights reach
//   threshold x the sum of the k' weights (0: keep all k'); renormalize the kept weights when the
//   model normalizes its top-k weights, else keep them as they are.
//
// Routing statistics (per layer and expert: tokens and weight sums) come with every forward a
// caller asks for; see Session::routingStats.
#pragma once

#include <string>
#include <vector>

namespace moe {

struct ExpertPolicy {
    int maxExperts = 0;    // experts per token (0: the model's num_experts_per_tok)
    float threshold = 0;   // cumulative routing-weight share in (0, 1]; 0: off
    std::string profile;   // name of the domain bias profile ("" : none)
    // [nLayer * nExpert] bias added to the router logits (empty: none); rows of dense layers unused.
    std::vector<float> domainBias;
    bool active() const { return maxExperts > 0 || threshold > 0 || !domainBias.empty(); }
};

} // namespace moe
