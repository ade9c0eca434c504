// Decoder skeleton pieces shared by the families, the backend scratch, and the family dispatch.
#include "models/decoder.h"

#include "models/deepseek.h"
#include "models/gqa-moe.h"

#include <algorithm>

namespace moe {

Result<std::unique_ptr<FamilyForward>> bindFamily(const WeightSource& src, const ModelSpec& spec,
                                                  ComputeBackend& device) {
    if (spec.family == "gqa-moe" || spec.family == "dense") return bindGqaFamily(src, spec, device);
    if (spec.family == "deepseek") return bindDeepseekFamily(src, spec, device);
    return Status(StatusCode::Unsupported, src.location() + ": model family '" + spec.family + "' has no forward");
}

Result<void*> Workspace::get(const std::string& name, size_t bytes) {
    BackendMemory& m = m_buffers[name];
    if (m.data() == nullptr || m.bytes() < bytes) {
        m = BackendMemory();
        MOE_ASSIGN_OR_RETURN(m, m_backend.allocate(std::max<size_t>(bytes, 16)));
    }
    return m.data();
}

Result<float*> Workspace::floats(const std::string& name, size_t n) {
    MOE_ASSIGN_OR_RETURN(void* p, get(name, n * sizeof(float)));
    return static_cast<float*>(p);
}

Result<int32_t*> Workspace::ints(const std::string& name, size_t n) {
    MOE_ASSIGN_OR_RETURN(void* p, get(name, n * sizeof(int32_t)));
    return static_cast<int32_t*>(p);
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

Result<ops::WeightView> residentMatrix(const WeightSource& src, ComputeBackend& device, const std::string& name,
                                       int64_t rows, int64_t cols) {
    MOE_ASSIGN_OR_RETURN(ops::WeightView v, src.matrix(name, rows, cols));
    auto r = device.residentWeight(v);
    if (!r.isOk()) return Status(r.status().code(), src.location() + ": tensor '" + name + "': " + r.status().message());
    return r;
}

Result<const float*> residentVector(const WeightSource& src, ComputeBackend& device, const std::string& name,
                                    int64_t n) {
    MOE_ASSIGN_OR_RETURN(const float* v, src.vectorF32(name, n));
    auto r = device.residentVector(v, n);
    if (!r.isOk()) return Status(r.status().code(), src.location() + ": tensor '" + name + "': " + r.status().message());
    return r;
}

Result<const float*> residentOptionalVector(const WeightSource& src, ComputeBackend& device,
                                            const std::string& name, int64_t n) {
    if (!src.find(name)) return static_cast<const float*>(nullptr);
    return residentVector(src, device, name, n);
}

Status bindDecoderEnds(const WeightSource& src, const ModelSpec& s, ComputeBackend& device, DecoderEnds& e) {
    MOE_ASSIGN_OR_RETURN(e.tokenEmbd, residentMatrix(src, device, "token_embd.weight", s.nVocab, s.nEmbd));
    MOE_ASSIGN_OR_RETURN(e.outputNorm, residentVector(src, device, "output_norm.weight", s.nEmbd));
    if (src.find("output.weight")) {
        MOE_ASSIGN_OR_RETURN(e.output, residentMatrix(src, device, "output.weight", s.nVocab, s.nEmbd));
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

Result<BatchInputs> prepareBatch(const ModelSpec& s, const DecoderEnds& e, const KvView& cache, const ForwardBatch& b,
                                 Workspace& ws, float* h) {
    const int nTok = int(b.tokens.size());
    if (nTok == 0) return Status(StatusCode::InvalidArgument, "forward: no tokens");
    if (b.seq.size() != b.tokens.size() || b.pos.size() != b.tokens.size())
        return Status(StatusCode::InvalidArgument, "forward: tokens, sequences and positions differ in count");
    int nSeq = 0;
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
        if (b.seq[size_t(t)] < 0) return Status(StatusCode::InvalidArgument, "forward: negative sequence id");
        nSeq = std::max(nSeq, b.seq[size_t(t)] + 1);
    }
    for (int32_t r : b.logitRows)
        if (r < 0 || r >= nTok) return Status(StatusCode::InvalidArgument, "forward: logit row out of range");
    // Paging on the host: each token's physical cache row, and every sequence's page table padded
    // to one stride (the longest table any token of the batch needs).
    const int ps = cache.pageSize();
    std::vector<int> pagesOf(static_cast<size_t>(nSeq), 0);
    for (int t = 0; t < nTok; ++t)
        pagesOf[size_t(b.seq[size_t(t)])] = std::max(pagesOf[size_t(b.seq[size_t(t)])], b.pos[size_t(t)] / ps + 1);
    const int stride = std::max(1, *std::max_element(pagesOf.begin(), pagesOf.end()));
    std::vector<int32_t> tables(size_t(nSeq) * size_t(stride), 0), rows(static_cast<size_t>(nTok));
    for (int q = 0; q < nSeq; ++q)
        if (pagesOf[size_t(q)] > 0)
            std::copy(cache.pageTable(q), cache.pageTable(q) + pagesOf[size_t(q)], tables.begin() + int64_t(q) * stride);
    for (int t = 0; t < nTok; ++t) rows[size_t(t)] = int32_t(cache.row(b.seq[size_t(t)], b.pos[size_t(t)]));
    std::vector<int32_t> logitRows(b.logitRows.begin(), b.logitRows.end());
    if (logitRows.empty())
        for (int t = 0; t < nTok; ++t) logitRows.push_back(t);

    // One upload for every integer input (a GPU backend pays one copy, not six).
    std::vector<int32_t> packed;
    auto append = [&](auto first, auto last) {
        const size_t at = packed.size();
        packed.insert(packed.end(), first, last);
        return at;
    };
    const size_t idsAt = append(b.tokens.begin(), b.tokens.end());
    const size_t posAt = append(b.pos.begin(), b.pos.end());
    const size_t rowsAt = append(rows.begin(), rows.end());
    const size_t tablesAt = append(tables.begin(), tables.end());
    const size_t seqAt = append(b.seq.begin(), b.seq.end());
    const size_t logitAt = append(logitRows.begin(), logitRows.end());
    MOE_ASSIGN_OR_RETURN(const int32_t* base, ws.upload("in.packed", packed));
    BatchInputs in;
    in.nTok = nTok;
    in.ids = base + idsAt;
    in.pos = base + posAt;
    in.cacheRows = base + rowsAt;
    in.paged.tables = base + tablesAt;
    in.paged.seqOfToken = base + seqAt;
    in.paged.tableStride = stride;
    in.paged.pageSize = ps;
    in.logitRows = base + logitAt;
    in.nLogitRows = int(logitRows.size());
    ws.backend().embed(e.tokenEmbd, in.ids, nTok, h);
    return in;
}

Status outputLogits(const ModelSpec& s, const DecoderEnds& e, const float* h, const BatchInputs& in, Workspace& ws,
                    std::vector<float>& logits) {
    ComputeBackend& be = ws.backend();
    const int rows = in.nLogitRows;
    MOE_ASSIGN_OR_RETURN(float* sel, ws.floats("out.rows", size_t(rows) * size_t(s.nEmbd)));
    MOE_ASSIGN_OR_RETURN(float* out, ws.floats("out.logits", size_t(rows) * size_t(s.nVocab)));
    be.gatherRows(sel, h, in.logitRows, rows, s.nEmbd);
    be.rmsnorm(sel, s.nEmbd, e.outputNorm, sel, s.nEmbd, rows, s.nEmbd, s.rmsEps);
    be.matmul(sel, rows, e.output, out);
    logits.resize(size_t(rows) * size_t(s.nVocab));
    return be.download(logits.data(), out, logits.size() * sizeof(float));
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

Result<RopeTable> residentRope(const ModelSpec& s, int nRot, ComputeBackend& device, BackendMemory& keep) {
    MOE_ASSIGN_OR_RETURN(ops::RopeFreqs f, ropeFreqsFor(s, nRot));
    MOE_ASSIGN_OR_RETURN(keep, device.allocate(f.invFreq.size() * sizeof(float)));
    MOE_TRY(device.upload(keep.data(), f.invFreq.data(), f.invFreq.size() * sizeof(float)));
    RopeTable t;
    t.invFreq = keep.as<float>();
    t.attentionFactor = f.attentionFactor;
    return t;
}

} // namespace moe
