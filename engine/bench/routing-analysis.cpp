// Routing analysis (moe/evals.h): which experts a model routes each domain's text to. Every
// domain's text is cut into disjoint chunks of `context` tokens run from an empty KV cache with
// routing collection on (only the last row's logits are asked for); the session's RoutingStats of
// each domain give its per layer x expert shares, their pooled sum the overall shares and the
// normalized load-balance entropy, and a domain's share over the mean of the domains' shares its
// affinity: the input of ESFT expert selection and of domain bias profiles.
#include "bench/eval-common.h"

namespace moe {

namespace {

std::vector<double> shares(const RoutingStats& st) {
    std::vector<double> s(size_t(st.nLayer) * size_t(st.nExpert), 0.0);
    for (int il = 0; il < st.nLayer; ++il) {
        const int64_t total = st.layerAssignments(il);
        if (total <= 0) continue;
        for (int e = 0; e < st.nExpert; ++e) {
            const size_t at = size_t(il) * size_t(st.nExpert) + size_t(e);
            s[at] = double(st.tokens[at]) / double(total);
        }
    }
    return s;
}

std::vector<double> entropies(const RoutingStats& st) {
    std::vector<double> h(size_t(st.nLayer), 0.0);
    for (int il = 0; il < st.nLayer; ++il)
        h[size_t(il)] = st.normalizedLoadEntropy(il);
    return h;
}

} // namespace

Result<RoutingAnalysis> analyzeRouting(std::shared_ptr<const Model> model,
                                       std::span<const RoutingDomain> domains,
                                       const RoutingConfig& config, const EvalOptions& options,
                                       const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "routing: no model");
    MOE_TRY(evals::requireTokenizer(*model, "routing"));
    if (domains.empty())
        return Status(StatusCode::InvalidArgument, "routing: no domains (name -> text file)");
    if (config.context < 1)
        return Status(StatusCode::InvalidArgument, "routing: context must be >= 1");
    if (model->spec().nExpert < 1)
        return Status(StatusCode::InvalidArgument,
                      "routing: " + model->info().path + " has no routed experts");

    std::vector<std::vector<int32_t>> texts;
    int64_t chunks = 0;
    for (const RoutingDomain& d : domains) {
        MOE_ASSIGN_OR_RETURN(std::string text, evals::readTextFile(d.file));
        texts.push_back(model->tokenizer().encode(text, true));
        chunks += (int64_t(texts.back().size()) + config.context - 1) / config.context;
    }
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                         evals::makeSession(model, options, config.context));
    session->setCollectRouting(true);

    RoutingAnalysis r;
    RoutingStats pooled;
    int64_t done = 0;
    for (size_t d = 0; d < domains.size(); ++d) {
        session->resetRoutingStats();
        const std::vector<int32_t>& ids = texts[d];
        for (size_t at = 0; at < ids.size(); at += size_t(config.context)) {
            MOE_TRY(evals::checkProgress(progress, "routing " + domains[d].name, done++, chunks));
            const size_t len = std::min(ids.size() - at, size_t(config.context));
            session->reset();
            auto run = session->evaluate(std::span<const int32_t>(ids).subspan(at, len), true);
            if (!run.isOk())
                return Status(run.status().code(), domains[d].file + ": " + run.status().message());
        }
        const RoutingStats st = session->routingStats();
        if (d == 0) {
            pooled = st;
        } else {
            for (size_t i = 0; i < st.tokens.size(); ++i)
                pooled.tokens[i] += st.tokens[i];
            pooled.tokensSeen += st.tokensSeen;
        }
        RoutingDomainResult dr;
        dr.name = domains[d].name;
        dr.file = domains[d].file;
        dr.tokens = st.tokensSeen;
        dr.share = shares(st);
        dr.entropy = entropies(st);
        r.domains.push_back(std::move(dr));
    }
    r.nLayer = pooled.nLayer;
    r.nExpert = pooled.nExpert;
    r.moeLayer = pooled.moeLayer;
    r.tokens = pooled.tokensSeen;
    r.share = shares(pooled);
    r.entropy = entropies(pooled);
    int moeLayers = 0;
    for (int il = 0; il < r.nLayer; ++il) {
        if (!r.moeLayer[size_t(il)]) continue;
        r.entropyMean += r.entropy[size_t(il)];
        ++moeLayers;
    }
    if (moeLayers > 0) r.entropyMean /= double(moeLayers);

    const size_t cells = size_t(r.nLayer) * size_t(r.nExpert);
    std::vector<double> mean(cells, 0.0);
    for (const RoutingDomainResult& dr : r.domains)
        for (size_t i = 0; i < cells; ++i)
            mean[i] += dr.share[i] / double(r.domains.size());
    for (RoutingDomainResult& dr : r.domains) {
        dr.affinity.assign(cells, 0.0);
        for (size_t i = 0; i < cells; ++i)
            if (mean[i] > 0) dr.affinity[i] = dr.share[i] / mean[i];
    }
    return r;
}

} // namespace moe
