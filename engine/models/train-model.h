// TrainModel: a loaded model bound for training on the CPU — which of its weights are trained
// (LoRA pairs on chosen linears, expert-specialized experts, everything), the decoder loop
// (embedding, per layer h += Attn(norm(h)); h += FFN(norm(h)), final norm, head), the shifted
// cross-entropy loss with ignored labels, and the backward through all of it with optional
// per-layer activation checkpointing (keep only each layer's input, recompute the layer in the
// backward). Weights not trained stay in the mapped file in their stored type.
//
// Names: every Param carries the Hugging Face name it is saved under, so adapters are written
// in PEFT's layout and full/ESFT deltas as safetensors a transformers model loads.
#pragma once

#include "models/train-blocks.h"
#include "models/weight-source.h"
#include "moe/status.h"
#include "ops/ops.h"

#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace moe {
class ModelImpl;
}

namespace moe::train {

// What to train.
struct TrainTargets {
    bool full = false;         // every weight (embedding, norms, linears, experts)
    bool freezeRouter = false; // with full: the routers stay as they are
    // LoRA (rank 0: none) on the linears whose HF module name matches one of loraModules: equal to
    // it, or ending with "." + it ("q_proj" matches every layer's q_proj; "gate_proj" matches
    // dense, shared and routed experts' gate projections); "all-linear": every linear but lm_head.
    int loraRank = 0;
    float loraAlpha = 16.0f;
    float loraDropout = 0.0f;
    bool rsLora = false;
    std::vector<std::string> loraModules;
    // ESFT: layer -> routed experts whose gate/up/down weights are trained in full.
    std::map<int, std::vector<int>> esftExperts;
    uint64_t seed = 42; // LoRA A initialization
};

// One sequence: tokens and HF-style unshifted labels (labels[t] = the token at t when it counts,
// -100 when not); the loss at position t predicts labels[t + 1].
struct TrainSequence {
    std::span<const int32_t> tokens;
    std::span<const int32_t> labels;
};

struct LossResult {
    double lossSum = 0; // sum of -log p over counted positions
    int64_t counted = 0;
};

// Canonical (GGUF) tensor name -> Hugging Face name for this model ("blk.0.attn_q.weight" ->
// "model.layers.0.self_attn.q_proj.weight"); Mixtral's experts as w1/w3/w2.
std::string hfTensorName(const ModelSpec& spec, const std::string& canonical);

// Binding helpers shared by the family files: frozen views from the source, Params for what is
// trained, names in HF form.
class TrainBinder {
public:
    TrainBinder(const WeightSource& src, const ModelSpec& spec, const TrainTargets& targets,
                std::deque<Param>& params, std::deque<std::vector<float>>& owned);
    // A linear [rows, cols] named by its canonical weight (".weight" included); routed experts pass
    // (layer, expert) so ESFT can select them; isRouter: left frozen under freezeRouter.
    Result<Linear> linear(const std::string& canonical, int64_t rows, int64_t cols, int esftLayer = -1,
                          int esftExpert = -1, bool isRouter = false);
    // The same over a view the caller got (GGUF's stacked experts, MLA's kv_b rebuilt from
    // GGUF's split halves: data owned by own()).
    Linear linearFromView(const ops::WeightView& w, const std::string& canonical, int esftLayer = -1,
                          int esftExpert = -1, bool isRouter = false);
    Result<TrainVector> vector(const std::string& canonical, int64_t n, bool optional = false);
    TrainVector vectorFrom(const float* data, int64_t n, const std::string& canonical);
    const WeightSource& source() const { return m_src; }
    // Storage for weights rebuilt at bind time; lives as long as the TrainModel.
    std::vector<float>& own(size_t n);
    // The model's RoPE frequencies over nRot dims.
    Result<ops::RopeFreqs> rope(int nRot) const;
    const ModelSpec& spec() const { return m_spec; }

private:
    bool loraWanted(const std::string& module) const;
    Param& add(const std::string& name);
    const WeightSource& m_src;
    const ModelSpec& m_spec;
    const TrainTargets& m_targets;
    std::deque<Param>& m_params;
    std::deque<std::vector<float>>& m_owned;
    uint64_t m_nextKey = 1;
};

// Family attention blocks (train-gqa.cpp, train-mla.cpp).
Result<std::unique_ptr<TrainAttention>> bindGqaAttention(TrainBinder& b, int il);
Result<std::unique_ptr<TrainAttention>> bindMlaAttention(TrainBinder& b, int il);
// A layer's FFN (train-ffn-bind.cpp).
Status bindTrainFfn(TrainBinder& b, int il, TrainFfn& f);

class TrainModel {
public:
    // Binds model for training what targets says. Errors: Unsupported for a family or feature the
    // trainer lacks, InvalidArgument for targets that match nothing or name missing layers/experts.
    static Result<std::unique_ptr<TrainModel>> bind(const ModelImpl& model, const TrainTargets& targets);
    ~TrainModel();

    const ModelSpec& spec() const { return m_spec; }
    // The trained parameters, in a stable order.
    std::vector<Param*> params();
    int64_t trainableCount() const;

    // Loss over the sequences and, when backward, gradients added to params' grad. divisor: the
    // loss's denominator for the gradient (0: this batch's counted positions; gradient
    // accumulation passes the whole step's count). checkpoint: recompute layers in the backward.
    Result<LossResult> step(std::span<const TrainSequence> seqs, int64_t divisor, bool backward,
                            bool checkpoint, const TrainContext& ctx);
    // Logits [sum of lengths, nVocab] of the sequences (tests, evaluation).
    Result<std::vector<float>> logits(std::span<const TrainSequence> seqs, const TrainContext& ctx);

    struct Layer;

private:
    TrainModel() = default;
    Status forwardAll(const Segments& seg, std::span<const int32_t> ids, std::vector<float>& h,
                      std::vector<std::vector<float>>* layerInputs, std::vector<Saved>* saves,
                      const TrainContext& ctx);
    ModelSpec m_spec;
    std::deque<Param> m_params;
    std::vector<Layer> m_layers;
    std::deque<std::vector<float>> m_owned; // weights rebuilt for training (MLA kv_b)
    ops::WeightView m_embd;
    Param* m_embdParam = nullptr;
    TrainVector m_outNorm;
    Linear m_head;
    bool m_tied = false;
};

} // namespace moe::train
