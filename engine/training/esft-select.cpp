// ESFT expert selection (arXiv 2407.01906 §3): run the training data through the model, score each
// expert of each MoE layer by its average gate weight per token ("gate") or its share of routed
// token slots ("token"), and keep a layer's best experts until their normalized cumulative score
// reaches the threshold (the paper's p, 0.1-0.2).
#include "training/trainer-impl.h"

#include "moe/session.h"

#include <algorithm>
#include <numeric>

namespace moe {

Result<std::map<int, std::vector<int>>>
selectEsftExperts(std::shared_ptr<const Model> model, const std::vector<TrainingExample>& examples,
                  const TrainingConfig& config) {
    const ModelSpec& s = model->spec();
    if (s.nExpert <= 0)
        return Status(StatusCode::InvalidArgument,
                      model->info().path + ": ESFT needs a MoE model (this one has no experts)");
    SessionOptions o;
    o.collectRouting = true;
    o.nThreads = config.threads;
    o.nCtx = config.maxSeqLen;
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model, o));
    for (const TrainingExample& ex : examples) {
        session->reset();
        MOE_TRY(session->evaluate(ex.tokens, true).status());
    }
    const RoutingStats stats = session->routingStats();
    std::map<int, std::vector<int>> chosen;
    for (int il = 0; il < s.nLayer; ++il) {
        if (!stats.moeLayer[size_t(il)]) continue;
        std::vector<double> score(size_t(s.nExpert));
        for (int e = 0; e < s.nExpert; ++e) {
            const size_t i = size_t(il) * size_t(s.nExpert) + size_t(e);
            score[size_t(e)] =
                config.esftScore == "gate" ? stats.weightSums[i] : double(stats.tokens[i]);
        }
        const double total = std::accumulate(score.begin(), score.end(), 0.0);
        if (total <= 0) continue;
        std::vector<int> order(size_t(s.nExpert));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
        double cum = 0;
        for (int e : order) {
            chosen[il].push_back(e);
            cum += score[size_t(e)] / total;
            if (cum >= config.esftThreshold) break;
        }
        std::sort(chosen[il].begin(), chosen[il].end());
    }
    return chosen;
}

} // namespace moe
