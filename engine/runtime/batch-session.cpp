// BatchSession: sequences sharing one paged KvCache; step() packs every sequence's new tokens into
// one ForwardBatch (sequence ids and positions per token) and asks for each step's last row.
#include "moe/batch.h"

#include "models/model-impl.h"
#include "runtime/kv-cache.h"

#include <algorithm>

namespace moe {

class BatchSessionImpl {
public:
    std::shared_ptr<const Model> model;
    std::unique_ptr<ComputeBackend> backend; // runs the forwards (the CPU)
    std::unique_ptr<Workspace> ws;
    KvCache cache; // in the backend's memory: declared after it, destroyed before it
    ExpertPolicy policy;
    std::vector<int> length; // per sequence slot: cached tokens, -1 when free
};

Result<std::unique_ptr<BatchSession>> BatchSession::create(std::shared_ptr<const Model> model,
                                                           const BatchOptions& o) {
    if (!model) return Status(StatusCode::InvalidArgument, "BatchSession::create: no model");
    const ModelSpec& s = model->spec();
    if (o.maxSequences <= 0 || o.maxSequences > 4096)
        return Status(StatusCode::InvalidArgument, "batch: max sequences " + std::to_string(o.maxSequences) +
                                                       " is outside 1..4096");
    const int seqLen = o.maxSeqLen > 0 ? o.maxSeqLen : std::min(s.nCtxTrain > 0 ? s.nCtxTrain : 4096, 4096);
    const int64_t total = o.totalTokens > 0 ? o.totalTokens : int64_t(seqLen) * o.maxSequences;
    if (total > (int64_t(1) << 26))
        return Status(StatusCode::InvalidArgument, "batch: " + std::to_string(total) + " cache rows is too many");
    MOE_TRY(checkExpertPolicy(s, o.expertPolicy));
    auto impl = std::make_unique<BatchSessionImpl>();
    impl->model = std::move(model);
    impl->policy = o.expertPolicy;
    const KvGeometry kv = impl->model->impl().forward->kvGeometry();
    if (o.pageSize < 0 || o.pageSize > 4096)
        return Status(StatusCode::InvalidArgument, "batch: page size " + std::to_string(o.pageSize) + " is outside 1..4096");
    impl->backend = makeCpuBackend(o.nThreads);
    impl->ws = std::make_unique<Workspace>(*impl->backend);
    MOE_TRY(impl->cache.init(*impl->backend, s.nLayer, int(total), kv.kDim, kv.vDim, o.maxSequences, seqLen,
                             o.pageSize > 0 ? o.pageSize : KvCache::kDefaultPageSize));
    impl->length.assign(size_t(o.maxSequences), -1);
    return std::unique_ptr<BatchSession>(new BatchSession(std::move(impl)));
}

BatchSession::BatchSession(std::unique_ptr<BatchSessionImpl> impl) : m_impl(std::move(impl)) {}
BatchSession::~BatchSession() = default;

Result<int> BatchSession::addSequence() {
    auto& len = m_impl->length;
    auto it = std::find(len.begin(), len.end(), -1);
    if (it == len.end())
        return Status(StatusCode::OutOfMemory, "batch: all " + std::to_string(len.size()) + " sequences are in use");
    *it = 0;
    return int(it - len.begin());
}

Status BatchSession::removeSequence(int seq) {
    if (position(seq) < 0) return Status(StatusCode::InvalidArgument, "batch: no sequence " + std::to_string(seq));
    m_impl->cache.release(seq);
    m_impl->length[size_t(seq)] = -1;
    return Status::ok();
}

int BatchSession::position(int seq) const {
    if (seq < 0 || seq >= int(m_impl->length.size())) return -1;
    return m_impl->length[size_t(seq)];
}

int BatchSession::activeSequences() const {
    return int(std::count_if(m_impl->length.begin(), m_impl->length.end(), [](int n) { return n >= 0; }));
}

int BatchSession::freeTokens() const { return m_impl->cache.freePages() * m_impl->cache.pageSize(); }

Result<std::vector<std::vector<float>>> BatchSession::step(const std::vector<SequenceStep>& steps) {
    BatchSessionImpl& m = *m_impl;
    std::vector<int32_t> tokens, seq, pos, rows;
    std::vector<bool> seen(m.length.size(), false);
    for (const SequenceStep& st : steps) {
        if (position(st.sequence) < 0)
            return Status(StatusCode::InvalidArgument, "batch: no sequence " + std::to_string(st.sequence));
        if (seen[size_t(st.sequence)])
            return Status(StatusCode::InvalidArgument, "batch: sequence " + std::to_string(st.sequence) +
                                                           " appears twice in one step");
        if (st.tokens.empty())
            return Status(StatusCode::InvalidArgument, "batch: sequence " + std::to_string(st.sequence) +
                                                           " has no tokens in this step");
        seen[size_t(st.sequence)] = true;
        const int base = m.length[size_t(st.sequence)];
        for (size_t i = 0; i < st.tokens.size(); ++i) {
            tokens.push_back(st.tokens[i]);
            seq.push_back(st.sequence);
            pos.push_back(base + int(i));
        }
        rows.push_back(int32_t(tokens.size()) - 1);
    }
    if (tokens.empty()) return std::vector<std::vector<float>>{};
    // Reserve every sequence's pages first; on a shortage give back what this step took.
    for (const SequenceStep& st : steps) {
        const Status r = m.cache.reserve(st.sequence, m.length[size_t(st.sequence)] + int(st.tokens.size()));
        if (!r.isOk()) {
            for (const SequenceStep& undo : steps) m.cache.truncate(undo.sequence, m.length[size_t(undo.sequence)]);
            return r;
        }
    }
    ForwardBatch b;
    b.tokens = tokens;
    b.seq = seq;
    b.pos = pos;
    b.logitRows = rows;
    ForwardContext ctx;
    ctx.ws = m.ws.get();
    ctx.policy = &m.policy;
    std::vector<float> logits;
    const Status st = m.model->impl().forward->forwardBatch(m.cache, b, logits, ctx);
    if (!st.isOk()) {
        for (const SequenceStep& undo : steps) m.cache.truncate(undo.sequence, m.length[size_t(undo.sequence)]);
        return st;
    }
    const size_t nVocab = size_t(m.model->spec().nVocab);
    std::vector<std::vector<float>> out;
    for (size_t i = 0; i < steps.size(); ++i) {
        out.emplace_back(logits.begin() + std::ptrdiff_t(i * nVocab), logits.begin() + std::ptrdiff_t((i + 1) * nVocab));
        m.length[size_t(steps[i].sequence)] += int(steps[i].tokens.size());
    }
    return out;
}

} // namespace moe
