// The blocks of a decoder layer as the trainer runs them: attention (one implementation per
// family: train-gqa.cpp, train-mla.cpp) and the feed-forward block (train-ffn.cpp), each with an
// explicit forward that saves what its backward needs and the backward beside it.
//
// A training batch is several sequences packed row after row ([nTok, ...] with nTok the sum of
// their lengths); each sequence starts at position 0 and attends only to itself. Matmuls run over
// all rows at once; attention runs per sequence. Gradients of activations are written,
// gradients of parameters accumulated (ops/ops-backward.h conventions).
#pragma once

#include "models/train-linear.h"
#include "moe/model.h"
#include "moe/status.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moe::train {

// The packed sequences of a batch: rows [start[i], start[i] + len[i]) belong to sequence i.
struct Segments {
    std::vector<int> start, len;
    std::vector<int32_t> pos; // [nTok] position of each row within its sequence
    int nTok = 0;
};

// Named activations a block's forward keeps for its backward.
struct Saved {
    std::map<std::string, std::vector<float>> f;
    std::map<std::string, std::vector<int32_t>> i;
    std::map<std::string, LinearSaved> lin;
    std::vector<float>& floats(const std::string& name, size_t n) {
        auto& v = f[name];
        v.resize(n);
        return v;
    }
};

class TrainAttention {
public:
    virtual ~TrainAttention() = default;
    // out[nTok, nEmbd] = Attn(x), x the normed layer input.
    virtual void forward(const float* x, const Segments& seg, float* out, Saved& saved,
                         const TrainContext& ctx) const = 0;
    // dx[nTok, nEmbd] written.
    virtual void backward(const float* x, const Segments& seg, const float* dOut, float* dx,
                          Saved& saved, const TrainContext& ctx) const = 0;
};

// A SwiGLU MLP: down(silu(gate·x) * up·x).
struct TrainMlp {
    Linear gate, up, down;
    bool present() const { return gate.frozen.data != nullptr; }
};

struct TrainFfn {
    bool moe = false;
    TrainMlp dense;
    Linear router;                     // [nExpert, nEmbd]
    const float* selectionBias = nullptr;
    std::vector<TrainMlp> experts;     // routed
    TrainMlp shared;
    TrainVector sharedGate;            // [nEmbd] Qwen2-MoE sigmoid gate
    std::string sharedGateName;        // its HF name (a [1, nEmbd] linear weight)
};

// out[nTok, nEmbd] = FFN(x), routing as the model's config says (no expert policy in training).
Status ffnForwardTrain(const ModelSpec& spec, const TrainFfn& f, const float* x, int nTok, float* out,
                       Saved& saved, const TrainContext& ctx);
// dx[nTok, nEmbd] written; trained parameters' gradients accumulated.
void ffnBackwardTrain(const ModelSpec& spec, const TrainFfn& f, const float* x, int nTok, const float* dOut,
                      float* dx, Saved& saved, const TrainContext& ctx);

} // namespace moe::train
