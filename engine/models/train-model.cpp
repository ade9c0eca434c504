// TrainModel: the decoder loop for training — forward with saved activations, shifted
// cross-entropy, backward layer by layer (recomputing a layer's forward first when
// checkpointing). See train-model.h.
#include "models/train-model.h"

#include "models/ffn.h"
#include "models/model-impl.h"
#include "ops/ops-backward.h"

#include <algorithm>

namespace moe::train {

struct TrainModel::Layer {
    TrainVector attnNorm, ffnNorm;
    std::unique_ptr<TrainAttention> attn;
    TrainFfn ffn;
};

TrainModel::~TrainModel() = default;

Result<std::unique_ptr<TrainModel>> TrainModel::bind(const ModelImpl& model, const TrainTargets& targets) {
    const ModelSpec& s = model.info.spec;
    const WeightSource& src = *model.weightSource;
    if (s.family != "gqa-moe" && s.family != "dense" && s.family != "deepseek")
        return Status(StatusCode::Unsupported, src.location() + ": training does not support the '" + s.family +
                                                   "' family");
    for (const auto& [il, experts] : targets.esftExperts) {
        if (il < 0 || il >= s.nLayer || !isMoeLayer(s, il))
            return Status(StatusCode::InvalidArgument, "ESFT: layer " + std::to_string(il) + " is not a MoE layer of " +
                                                           src.location());
        for (int e : experts)
            if (e < 0 || e >= s.nExpert)
                return Status(StatusCode::InvalidArgument, "ESFT: layer " + std::to_string(il) + " has no expert " +
                                                               std::to_string(e) + " (the model has " +
                                                               std::to_string(s.nExpert) + ")");
    }
    if (targets.loraRank < 0) return Status(StatusCode::InvalidArgument, "LoRA rank must be positive");
    auto m = std::unique_ptr<TrainModel>(new TrainModel());
    m->m_spec = s;
    TrainBinder b(src, m->m_spec, targets, m->m_params, m->m_owned);
    MOE_ASSIGN_OR_RETURN(m->m_embd, src.matrix("token_embd.weight", s.nVocab, s.nEmbd));
    if (targets.full) {
        m->m_embdParam = &m->m_params.emplace_back();
        initFromWeight(*m->m_embdParam, m->m_embd, "model.embed_tokens.weight");
    }
    m->m_layers.resize(size_t(s.nLayer));
    for (int il = 0; il < s.nLayer; ++il) {
        Layer& L = m->m_layers[size_t(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_ASSIGN_OR_RETURN(L.attnNorm, b.vector(p + "attn_norm.weight", s.nEmbd));
        if (s.family == "deepseek") {
            MOE_ASSIGN_OR_RETURN(L.attn, bindMlaAttention(b, il));
        } else {
            MOE_ASSIGN_OR_RETURN(L.attn, bindGqaAttention(b, il));
        }
        MOE_ASSIGN_OR_RETURN(L.ffnNorm, b.vector(p + "ffn_norm.weight", s.nEmbd));
        MOE_TRY(bindTrainFfn(b, il, L.ffn));
    }
    MOE_ASSIGN_OR_RETURN(m->m_outNorm, b.vector("output_norm.weight", s.nEmbd));
    if (src.find("output.weight")) {
        MOE_ASSIGN_OR_RETURN(m->m_head, b.linear("output.weight", s.nVocab, s.nEmbd));
    } else { // tied: the head is the embedding (trained with it under full fine-tuning)
        m->m_tied = true;
        m->m_head.frozen = m->m_embd;
        m->m_head.module = "lm_head";
        m->m_head.weight = m->m_embdParam;
    }
    if (m->m_params.empty())
        return Status(StatusCode::InvalidArgument,
                      "nothing to train: the targets match no weight of " + src.location() +
                          (targets.loraRank > 0 ? " (LoRA target modules: " +
                                                      [&] {
                                                          std::string t;
                                                          for (const auto& x : targets.loraModules)
                                                              t += (t.empty() ? "" : ", ") + x;
                                                          return t;
                                                      }() + ")"
                                                : ""));
    return m;
}

std::vector<Param*> TrainModel::params() {
    std::vector<Param*> out;
    for (Param& p : m_params)
        out.push_back(&p);
    return out;
}

int64_t TrainModel::trainableCount() const {
    int64_t n = 0;
    for (const Param& p : m_params)
        n += p.size();
    return n;
}

namespace {

// h1 = hIn + Attn(rmsnorm(hIn)); hOut = h1 + FFN(rmsnorm(h1)). Saves "n1", "h1", "n2" besides
// the blocks' own activations (attention under "a.", the FFN's in sv itself).
Status layerForward(const ModelSpec& s, const TrainModel::Layer& L, const float* hIn, float* hOut, const Segments& seg,
                    Saved& sv, Saved& attnSaved, const TrainContext& ctx) {
    const size_t n = size_t(seg.nTok) * size_t(s.nEmbd);
    auto& n1 = sv.floats("n1", n);
    auto& h1 = sv.floats("h1", n);
    auto& n2 = sv.floats("n2", n);
    std::vector<float> tmp(n);
    ops::rmsnorm(hIn, L.attnNorm.data(), n1.data(), seg.nTok, s.nEmbd, s.rmsEps);
    L.attn->forward(n1.data(), seg, tmp.data(), attnSaved, ctx);
    for (size_t i = 0; i < n; ++i)
        h1[i] = hIn[i] + tmp[i];
    ops::rmsnorm(h1.data(), L.ffnNorm.data(), n2.data(), seg.nTok, s.nEmbd, s.rmsEps);
    MOE_TRY(ffnForwardTrain(s, L.ffn, n2.data(), seg.nTok, tmp.data(), sv, ctx));
    for (size_t i = 0; i < n; ++i)
        hOut[i] = h1[i] + tmp[i];
    return Status::ok();
}

// dh: in, the gradient of the layer's output; out, of its input.
void layerBackward(const ModelSpec& s, const TrainModel::Layer& L, const float* hIn, std::vector<float>& dh,
                   const Segments& seg, Saved& sv, Saved& attnSaved, const TrainContext& ctx) {
    const size_t n = dh.size();
    const int T = seg.nTok, H = s.nEmbd;
    std::vector<float> dn(n), dnorm(n);
    ffnBackwardTrain(s, L.ffn, sv.f["n2"].data(), T, dh.data(), dn.data(), sv, ctx);
    ops::rmsnormBackward(sv.f["h1"].data(), L.ffnNorm.data(), dn.data(), dnorm.data(),
                         L.ffnNorm.param ? L.ffnNorm.param->grad.data() : nullptr, T, H, s.rmsEps, ctx.pool);
    for (size_t i = 0; i < n; ++i)
        dh[i] += dnorm[i]; // now the gradient of h1
    L.attn->backward(sv.f["n1"].data(), seg, dh.data(), dn.data(), attnSaved, ctx);
    ops::rmsnormBackward(hIn, L.attnNorm.data(), dn.data(), dnorm.data(),
                         L.attnNorm.param ? L.attnNorm.param->grad.data() : nullptr, T, H, s.rmsEps, ctx.pool);
    for (size_t i = 0; i < n; ++i)
        dh[i] += dnorm[i];
}

// Packs the sequences: segments, ids, shifted targets (position t predicts labels[t + 1]).
Status pack(const ModelSpec& s, std::span<const TrainSequence> seqs, Segments& seg, std::vector<int32_t>& ids,
            std::vector<int32_t>* targets) {
    seg = Segments{};
    ids.clear();
    if (targets) targets->clear();
    for (size_t i = 0; i < seqs.size(); ++i) {
        const TrainSequence& q = seqs[i];
        if (q.tokens.empty()) return Status(StatusCode::InvalidArgument, "sequence " + std::to_string(i) + " is empty");
        if (targets && q.labels.size() != q.tokens.size())
            return Status(StatusCode::InvalidArgument, "sequence " + std::to_string(i) + " has " +
                                                           std::to_string(q.tokens.size()) + " tokens but " +
                                                           std::to_string(q.labels.size()) + " labels");
        seg.start.push_back(seg.nTok);
        seg.len.push_back(int(q.tokens.size()));
        for (size_t t = 0; t < q.tokens.size(); ++t) {
            const int32_t id = q.tokens[t];
            if (id < 0 || id >= s.nVocab)
                return Status(StatusCode::InvalidArgument, "sequence " + std::to_string(i) + ", position " +
                                                               std::to_string(t) + ": token id " + std::to_string(id) +
                                                               " is outside the vocabulary (" +
                                                               std::to_string(s.nVocab) + ")");
            ids.push_back(id);
            seg.pos.push_back(int32_t(t));
            if (targets) targets->push_back(t + 1 < q.tokens.size() ? q.labels[t + 1] : ops::kIgnoreLabel);
        }
        seg.nTok += int(q.tokens.size());
    }
    return Status::ok();
}

} // namespace

Status TrainModel::forwardAll(const Segments& seg, std::span<const int32_t> ids, std::vector<float>& h,
                              std::vector<std::vector<float>>* layerInputs, std::vector<Saved>* saves,
                              const TrainContext& ctx) {
    const ModelSpec& s = m_spec;
    const int64_t H = s.nEmbd;
    const size_t n = size_t(seg.nTok) * size_t(H);
    h.resize(n);
    Linear embdLinear;
    embdLinear.frozen = m_embd;
    embdLinear.weight = m_embdParam;
    const ops::WeightView embd = embdLinear.view();
    for (int t = 0; t < seg.nTok; ++t)
        embd.rowToF32(ids[size_t(t)], h.data() + int64_t(t) * H);
    std::vector<float> next(n);
    Saved scratch, attnScratch;
    for (int il = 0; il < s.nLayer; ++il) {
        if (layerInputs) (*layerInputs)[size_t(il)] = h;
        Saved& sv = saves ? (*saves)[size_t(2 * il)] : scratch;
        Saved& av = saves ? (*saves)[size_t(2 * il + 1)] : attnScratch;
        MOE_TRY(layerForward(s, m_layers[size_t(il)], h.data(), next.data(), seg, sv, av, ctx));
        h.swap(next);
    }
    return Status::ok();
}

Result<LossResult> TrainModel::step(std::span<const TrainSequence> seqs, int64_t divisor, bool backward,
                                    bool checkpoint, const TrainContext& ctx) {
    const ModelSpec& s = m_spec;
    const int64_t H = s.nEmbd, V = s.nVocab;
    Segments seg;
    std::vector<int32_t> ids, targets;
    MOE_TRY(pack(s, seqs, seg, ids, &targets));
    const int T = seg.nTok;
    std::vector<std::vector<float>> inputs(backward ? size_t(s.nLayer) : 0);
    std::vector<Saved> saves(backward && !checkpoint ? size_t(2 * s.nLayer) : 0);
    std::vector<float> h;
    MOE_TRY(forwardAll(seg, ids, h, backward ? &inputs : nullptr, saves.empty() ? nullptr : &saves, ctx));
    std::vector<float> hn(h.size()), logits(size_t(T) * size_t(V));
    ops::rmsnorm(h.data(), m_outNorm.data(), hn.data(), T, int(H), s.rmsEps);
    LinearSaved headSaved;
    linearForward(m_head, hn.data(), T, logits.data(), &headSaved, ctx);
    std::vector<float> dLogits(backward ? logits.size() : 0);
    MOE_ASSIGN_OR_RETURN(ops::CrossEntropyResult ce, ops::crossEntropy(logits.data(), targets.data(), T, int(V), divisor,
                                                                       backward ? dLogits.data() : nullptr, ctx.pool));
    LossResult out;
    out.counted = ce.counted;
    out.lossSum = ce.loss * double(divisor > 0 ? divisor : std::max<int64_t>(ce.counted, 1));
    if (ce.counted == 0) out.lossSum = 0;
    if (!backward) return out;

    std::vector<float> dhn(h.size()), dh(h.size());
    linearBackward(m_head, hn.data(), dLogits.data(), T, dhn.data(), false, headSaved, ctx);
    ops::rmsnormBackward(h.data(), m_outNorm.data(), dhn.data(), dh.data(),
                         m_outNorm.param ? m_outNorm.param->grad.data() : nullptr, T, int(H), s.rmsEps, ctx.pool);
    std::vector<float> scratchOut(h.size());
    for (int il = s.nLayer - 1; il >= 0; --il) {
        const Layer& L = m_layers[size_t(il)];
        Saved recomputed, recomputedAttn;
        Saved& sv = checkpoint ? recomputed : saves[size_t(2 * il)];
        Saved& av = checkpoint ? recomputedAttn : saves[size_t(2 * il + 1)];
        if (checkpoint) MOE_TRY(layerForward(s, L, inputs[size_t(il)].data(), scratchOut.data(), seg, sv, av, ctx));
        layerBackward(s, L, inputs[size_t(il)].data(), dh, seg, sv, av, ctx);
        if (!checkpoint) {
            saves[size_t(2 * il)] = Saved{};
            saves[size_t(2 * il + 1)] = Saved{};
        }
    }
    if (m_embdParam) ops::embeddingBackward(ids.data(), dh.data(), T, H, m_embdParam->grad.data());
    return out;
}

Result<std::vector<float>> TrainModel::logits(std::span<const TrainSequence> seqs, const TrainContext& ctx) {
    Segments seg;
    std::vector<int32_t> ids;
    MOE_TRY(pack(m_spec, seqs, seg, ids, nullptr));
    std::vector<float> h;
    TrainContext eval = ctx;
    eval.training = false;
    MOE_TRY(forwardAll(seg, ids, h, nullptr, nullptr, eval));
    std::vector<float> hn(h.size()), out(size_t(seg.nTok) * size_t(m_spec.nVocab));
    ops::rmsnorm(h.data(), m_outNorm.data(), hn.data(), seg.nTok, m_spec.nEmbd, m_spec.rmsEps);
    linearForward(m_head, hn.data(), seg.nTok, out.data(), nullptr, eval);
    return out;
}

} // namespace moe::train
