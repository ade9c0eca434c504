// Session: model + KV cache + a compute backend (runtime/session-impl.h). generate() keeps the
// cached common prefix, prefills the prompt in one forward, then decodes token by token, streaming whole UTF-8
// characters to the callback. Timing: TTFT is request start to the first sampled token.
// Every forward runs under the session's expert policy; while routing collection is on, each
// forward's per-layer counts (and per-token rows) are added to the session's RoutingStats.
//
//   state:  empty --evaluate/generate--> filled --reset--> empty
//   generate: prefill -> [sample -> callback -> (stop?) -> decode one]* -> stats
#include "moe/session.h"

#include "runtime/sampler.h"
#include "runtime/session-impl.h"

#include <algorithm>
#include <chrono>

namespace moe {

const char* stopReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::Eos: return "eos";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::ContextFull: return "context_full";
    }
    return "unknown";
}


Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options) {
    if (!model) return Status(StatusCode::InvalidArgument, "Session::create: no model");
    const ModelSpec& s = model->spec();
    int nCtx = options.nCtx > 0 ? options.nCtx : std::min(s.nCtxTrain > 0 ? s.nCtxTrain : 4096, 4096);
    if (nCtx <= 0 || nCtx > (1 << 22))
        return Status(StatusCode::InvalidArgument, "context size " + std::to_string(nCtx) + " is out of range");
    auto impl = std::make_unique<SessionImpl>();
    impl->model = std::move(model);
    impl->reusePrefix = options.reusePrefix;
    if (options.slidingWindow < -1)
        return Status(StatusCode::InvalidArgument, "sliding window " + std::to_string(options.slidingWindow) +
                                                       " is negative (0: whole context, -1: the model's)");
    impl->slidingWindow = options.slidingWindow;
    MOE_TRY(checkExpertPolicy(s, options.expertPolicy));
    impl->policy = options.expertPolicy;
    impl->collectRouting = options.collectRouting || options.collectTokenRouting;
    impl->collectTokenRouting = options.collectTokenRouting;
    impl->clearStats();
    MOE_ASSIGN_OR_RETURN(impl->device, resolveDevice(options.device));
    ComputeBackend* backend = nullptr;
    if (impl->device == "cpu") {
        impl->ownBackend = makeCpuBackend(options.nThreads);
        backend = impl->ownBackend.get();
        impl->forward = impl->model->impl().forward.get();
    } else {
        MOE_ASSIGN_OR_RETURN(impl->gpu, impl->model->impl().bindDevice(impl->device));
        backend = impl->gpu->backend.get();
        impl->forward = impl->gpu->forward.get();
    }
    const KvGeometry kv = impl->forward->kvGeometry();
    MOE_TRY(impl->cache.init(*backend, s.nLayer, nCtx, kv.kDim, kv.vDim));
    impl->ws = std::make_unique<Workspace>(*backend);
    return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Session::Session(std::unique_ptr<SessionImpl> impl) : m_impl(std::move(impl)) {}
Session::~Session() = default;

const Model& Session::model() const { return *m_impl->model; }
int Session::contextSize() const { return m_impl->cache.capacity(); }
const std::string& Session::device() const { return m_impl->device; }
int Session::position() const { return int(m_impl->cached.size()); }
void Session::reset() { m_impl->cached.clear(); }

namespace {

bool samePolicy(const ExpertPolicy& a, const ExpertPolicy& b) {
    return a.maxExperts == b.maxExperts && a.threshold == b.threshold && a.domainBias == b.domainBias;
}

} // namespace

Status Session::setExpertPolicy(const ExpertPolicy& policy) {
    MOE_TRY(checkExpertPolicy(m_impl->model->spec(), policy));
    // Rows computed under another routing must not be reused as a prefix: drop them.
    if (!samePolicy(policy, m_impl->policy)) m_impl->cached.clear();
    m_impl->policy = policy;
    return Status::ok();
}

const ExpertPolicy& Session::expertPolicy() const { return m_impl->policy; }

void Session::setCollectRouting(bool on, bool perToken) {
    m_impl->collectRouting = on || perToken;
    m_impl->collectTokenRouting = perToken;
}

RoutingStats Session::routingStats() const { return m_impl->stats; }
void Session::resetRoutingStats() { m_impl->clearStats(); }

Result<std::vector<float>> Session::evaluate(std::span<const int32_t> tokens, bool lastOnly) {
    if (tokens.empty()) return Status(StatusCode::InvalidArgument, "evaluate: no tokens");
    return m_impl->evaluate(tokens, lastOnly);
}

Result<GenerationStats> Session::generate(std::span<const int32_t> prompt,
                                          const SamplingParams& params,
                                          const TokenCallback& onToken) {
    using Clock = std::chrono::steady_clock;
    auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    if (prompt.empty()) return Status(StatusCode::InvalidArgument, "generate: empty prompt");
    if (!m_impl->model->hasTokenizer())
        return Status(StatusCode::InvalidArgument,
                      m_impl->model->info().path + ": the model has no tokenizer to generate with");
    if (params.maxTokens < 0)
        return Status(StatusCode::InvalidArgument, "generate: max_tokens must be >= 0");
    const Tokenizer& tok = m_impl->model->tokenizer();
    GenerationStats stats;
    stats.promptTokens = int(prompt.size());
    const auto start = Clock::now();
    // Keep the longest common prefix of the cached context and the prompt, less one token: the
    // last prompt token is always evaluated, since its logits start the reply.
    size_t keep = 0;
    if (m_impl->reusePrefix) {
        const std::vector<int32_t>& c = m_impl->cached;
        while (keep < c.size() && keep + 1 < prompt.size() && c[keep] == prompt[keep]) ++keep;
    }
    m_impl->cached.resize(keep);
    stats.cachedTokens = int(keep);
    MOE_ASSIGN_OR_RETURN(std::vector<float> logits, m_impl->evaluate(prompt.subspan(keep), true));
    const auto prefillEnd = Clock::now();
    stats.prefillTokPerSec =
        double(prompt.size() - keep) / std::max(1e-9, ms(prefillEnd - start) / 1000.0);

    Sampler sampler(params);
    TextStreamer streamer;
    Clock::time_point firstToken{};
    stats.stopReason = StopReason::MaxTokens;
    for (int i = 0; i < params.maxTokens; ++i) {
        const int32_t id = sampler.sample(logits, m_impl->cached);
        if (i == 0) {
            firstToken = Clock::now();
            stats.ttftMs = ms(firstToken - start);
        }
        if (id == tok.eosId() || (tok.eotId() >= 0 && id == tok.eotId())) {
            stats.stopReason = StopReason::Eos;
            break;
        }
        stats.tokens.push_back(id);
        stats.generatedTokens++;
        TokenEvent ev;
        ev.id = id;
        ev.text = streamer.push(tok.tokenBytes(id));
        ev.index = i;
        if (params.topLogprobs > 0 || onToken) {
            const std::vector<float> adjusted = sampler.adjustedLogits(logits, m_impl->cached);
            ev.logprob = Sampler::logSoftmaxAt(adjusted, id);
            for (const Candidate& c : Sampler::topLogprobs(adjusted, params.topLogprobs))
                ev.topLogprobs.push_back({c.id, c.p});
        }
        stats.text += ev.text;
        if (onToken && !onToken(ev)) {
            stats.stopReason = StopReason::Cancelled;
            break;
        }
        if (i + 1 == params.maxTokens) break;
        if (position() >= contextSize()) {
            stats.stopReason = StopReason::ContextFull;
            break;
        }
        const int32_t one[1] = {id};
        MOE_ASSIGN_OR_RETURN(logits, m_impl->evaluate(one, true));
    }
    std::string tail = streamer.flush();
    if (!tail.empty()) {
        stats.text += tail;
        if (onToken && stats.stopReason != StopReason::Cancelled)
        {
            TokenEvent ev;
            ev.id = -1;
            ev.text = tail;
            ev.index = stats.generatedTokens;
            onToken(ev);
        }
    }
    const auto end = Clock::now();
    stats.totalMs = ms(end - start);
    if (stats.generatedTokens > 1)
        stats.decodeTokPerSec = double(stats.generatedTokens - 1) / std::max(1e-9, ms(end - firstToken) / 1000.0);
    return stats;
}

Result<GenerationStats> Session::generateText(const std::string& prompt, const SamplingParams& params,
                                              const TokenCallback& onToken) {
    if (!m_impl->model->hasTokenizer())
        return Status(StatusCode::InvalidArgument,
                      m_impl->model->info().path + ": the model has no tokenizer to read the prompt");
    std::vector<int32_t> ids = m_impl->model->tokenizer().encode(prompt, true);
    return generate(ids, params, onToken);
}

} // namespace moe
