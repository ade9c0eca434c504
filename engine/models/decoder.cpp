// Decoder skeleton pieces shared by the families, and the family dispatch.
#include "models/decoder.h"

#include "models/deepseek.h"
#include "models/gqa-moe.h"
#include "models/linear.h"

namespace moe {

Result<std::unique_ptr<FamilyForward>> bindFamily(const WeightSource& src, const ModelSpec& spec) {
    if (spec.family == "gqa-moe" || spec.family == "dense") return bindGqaFamily(src, spec);
    if (spec.family == "deepseek") return bindDeepseekFamily(src, spec);
    return Status(StatusCode::Unsupported, src.location() + ": model family '" + spec.family + "' has no forward");
}

Status checkExpertPolicy(const ModelSpec& s, const ExpertPolicy& p) {
    if (p.maxExperts < 0 || p.maxExperts > s.nExpert)
        return Status(StatusCode::InvalidArgument, "expert policy: max_experts " + std::to_string(p.maxExperts) +
                                                       " is outside 0.." + std::to_string(s.nExpert));
    if (!(p.threshold >= 0.0f && p.threshold <= 1.0f))
        return Status(StatusCode::InvalidArgument,
                      "expert policy: threshold " + std::to_string(p.threshold) + " is outside [0, 1]");
    const size_t want = size_t(s.nLayer) * size_t(s.nExpert);
    if (!p.domainBias.empty() && p.domainBias.size() != want)
        return Status(StatusCode::InvalidArgument, "expert policy: profile '" + p.profile + "' has " +
                                                       std::to_string(p.domainBias.size()) + " biases, expected " +
                                                       std::to_string(want) + " (layers x experts)");
    return Status::ok();
}

Status bindDecoderEnds(const WeightSource& src, const ModelSpec& s, DecoderEnds& e) {
    MOE_ASSIGN_OR_RETURN(e.tokenEmbd, src.matrix("token_embd.weight", s.nVocab, s.nEmbd));
    MOE_ASSIGN_OR_RETURN(e.outputNorm, src.vectorF32("output_norm.weight", s.nEmbd));
    if (src.find("output.weight")) {
        MOE_ASSIGN_OR_RETURN(e.output, src.matrix("output.weight", s.nVocab, s.nEmbd));
    } else {
        e.output = e.tokenEmbd; // tied embeddings (§1.6)
    }
    return Status::ok();
}

Status FamilyForward::forward(KvView& cache, std::span<const int32_t> tokens, int pos0, bool lastOnly,
                              std::vector<float>& logits, const ForwardContext& ctx) const {
    const int nTok = int(tokens.size());
    if (nTok == 0) return Status(StatusCode::InvalidArgument, "forward: no tokens");
    if (pos0 < 0 || pos0 + nTok > cache.capacity())
        return Status(StatusCode::InvalidArgument,
                      "forward: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + nTok - 1) +
                          " exceed the context size " + std::to_string(cache.capacity()));
    MOE_TRY(cache.reserve(0, pos0 + nTok));
    std::vector<int32_t> seq(static_cast<size_t>(nTok), 0), pos(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) pos[size_t(t)] = pos0 + t;
    const int32_t last[1] = {nTok - 1};
    ForwardBatch b;
    b.tokens = tokens;
    b.seq = seq;
    b.pos = pos;
    if (lastOnly) b.logitRows = last;
    return forwardBatch(cache, b, logits, ctx);
}

Status embedTokens(const ModelSpec& s, const DecoderEnds& e, const KvView& cache, const ForwardBatch& b,
                   std::vector<float>& h) {
    const int nTok = int(b.tokens.size());
    if (nTok == 0) return Status(StatusCode::InvalidArgument, "forward: no tokens");
    if (b.seq.size() != b.tokens.size() || b.pos.size() != b.tokens.size())
        return Status(StatusCode::InvalidArgument, "forward: tokens, sequences and positions differ in count");
    for (int t = 0; t < nTok; ++t) {
        const int32_t id = b.tokens[size_t(t)];
        if (id < 0 || id >= s.nVocab)
            return Status(StatusCode::InvalidArgument, "forward: token id " + std::to_string(id) +
                                                           " is outside the vocabulary (" +
                                                           std::to_string(s.nVocab) + ")");
        const int p = b.pos[size_t(t)];
        if (p < 0 || p >= cache.capacity())
            return Status(StatusCode::InvalidArgument, "forward: position " + std::to_string(p) +
                                                           " exceeds the context size " +
                                                           std::to_string(cache.capacity()));
    }
    for (int32_t r : b.logitRows)
        if (r < 0 || r >= nTok) return Status(StatusCode::InvalidArgument, "forward: logit row out of range");
    h.resize(size_t(nTok) * size_t(s.nEmbd));
    for (int t = 0; t < nTok; ++t) e.tokenEmbd.rowToF32(b.tokens[size_t(t)], h.data() + int64_t(t) * s.nEmbd);
    return Status::ok();
}

void outputLogits(const ModelSpec& s, const DecoderEnds& e, const std::vector<float>& h, const ForwardBatch& b,
                  std::vector<float>& n, std::vector<float>& logits, ThreadPool* pool) {
    const int nTok = int(b.tokens.size());
    const int rows = b.logitRows.empty() ? nTok : int(b.logitRows.size());
    n.resize(size_t(rows) * size_t(s.nEmbd));
    for (int r = 0; r < rows; ++r) {
        const int t = b.logitRows.empty() ? r : b.logitRows[size_t(r)];
        ops::rmsnorm(h.data() + int64_t(t) * s.nEmbd, e.outputNorm, n.data() + int64_t(r) * s.nEmbd, 1, s.nEmbd,
                     s.rmsEps);
    }
    logits.resize(size_t(rows) * size_t(s.nVocab));
    linear(n.data(), rows, e.output, logits.data(), pool);
}

std::vector<const int32_t*> pageTables(const KvView& cache, const ForwardBatch& b) {
    std::vector<const int32_t*> tables(b.seq.size());
    for (size_t t = 0; t < tables.size(); ++t) tables[t] = cache.pageTable(b.seq[t]);
    return tables;
}

Result<ops::RopeFreqs> ropeFreqsFor(const ModelSpec& s, int nRot) {
    const RopeScaling& r = s.ropeScaling;
    if (r.type != "none" && r.type != "linear" && r.type != "yarn" && r.type != "llama3")
        return Status(StatusCode::Unsupported, "rope scaling '" + r.type +
                                                   "' is not supported (none, linear, yarn, llama3 are)");
    ops::RopeScalingParams p;
    p.type = r.type.c_str();
    p.factor = r.factor;
    p.maxPositions = s.nCtxTrain;
    p.originalContext = r.originalContext;
    p.betaFast = r.betaFast;
    p.betaSlow = r.betaSlow;
    p.mscale = r.mscale;
    p.mscaleAllDim = r.mscaleAllDim;
    p.attentionFactor = r.attentionFactor;
    return ops::ropeFrequencies(nRot, s.ropeTheta, p);
}

} // namespace moe
