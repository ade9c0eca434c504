// The trainable pieces of a model as the trainer sees them: Param (a float32 tensor with its
// gradient, under the Hugging Face name it is saved as), TrainVector (a norm weight, frozen or
// trained), and Linear — y = x·Wᵀ (+ b) with W either the stored weight (any type, frozen) or a
// trainable float32 copy, plus an optional LoRA side branch (reference/model-formats.md §11.4).
// Forward and backward run on the CPU over OpenBLAS (backends/cpu/cpu-gemm.h); the scalar
// references in ops/ops-backward.h define what they compute (test-train-model checks both).
#pragma once

#include "ops/ops.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moe {
class ThreadPool;
}

namespace moe::train {

// A trainable float32 tensor: value, gradient (accumulated by backward passes) and the name it
// is saved under ("model.layers.0.self_attn.q_proj.lora_A.weight").
struct Param {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> value;
    std::vector<float> grad;
    int64_t size() const { return int64_t(value.size()); }
    void zeroGrad();
};

// What one forward/backward pass runs with.
struct TrainContext {
    ThreadPool* pool = nullptr;
    bool training = true; // dropout on
    uint64_t seed = 0;    // dropout masks: a function of (seed, step, linear, element)
    uint64_t step = 0;
    // Tests: Record keeps every MoE block's expert choice in routes, Replay reuses it (the
    // weights still follow the logits), so finite differences see no selection flips.
    enum class Routing { Free, Record, Replay } routing = Routing::Free;
    std::map<const void*, std::vector<int32_t>>* routes = nullptr;
};

// A 1-D weight (norms, biases): the stored float32 values, or a trained Param.
struct TrainVector {
    const float* frozen = nullptr;
    Param* param = nullptr;
    const float* data() const { return param ? param->value.data() : frozen; }
    bool present() const { return data() != nullptr; }
};

struct LoraBranch {
    Param* a = nullptr; // [rank, in]  PEFT lora_A
    Param* b = nullptr; // [out, rank] PEFT lora_B
    int rank = 0;
    float scaling = 1.0f;
    float dropout = 0.0f;
    uint64_t key = 0; // distinguishes this linear's dropout masks
};

struct Linear {
    std::string module;            // HF module name: "model.layers.0.self_attn.q_proj"
    ops::WeightView frozen;        // the stored weight [out, in]
    Param* weight = nullptr;       // trained in full (then frozen is only its initial value)
    TrainVector bias;              // [out] or absent
    LoraBranch lora;               // lora.a == nullptr: none
    int64_t out() const { return frozen.rows; }
    int64_t in() const { return frozen.cols; }
    bool trainable() const { return weight || lora.a || bias.param; }
    ops::WeightView view() const; // the weight the forward multiplies by
};

// What a Linear's forward keeps for its backward: the LoRA down-projection (m ⊙ x) · Aᵀ and the
// dropout multipliers (empty without LoRA / without dropout).
struct LinearSaved {
    std::vector<float> xa;
    std::vector<float> mask;
};

// y[nTok, out] = x[nTok, in] · Wᵀ + b + scaling · ((m ⊙ x) · Aᵀ) · Bᵀ. saved may be null when no
// backward follows (evaluation).
void linearForward(const Linear& l, const float* x, int nTok, float* y, LinearSaved* saved,
                   const TrainContext& ctx);

// Backward of linearForward: dx[nTok, in] written (accumulateDx: added to; dx null: not
// wanted), gradients of the trained parts accumulated into their Params.
void linearBackward(const Linear& l, const float* x, const float* dy, int nTok, float* dx,
                    bool accumulateDx, const LinearSaved& saved, const TrainContext& ctx);

// A trainable Param initialized from the stored weight (full fine-tuning, ESFT).
void initFromWeight(Param& p, const ops::WeightView& w, const std::string& name);

} // namespace moe::train
