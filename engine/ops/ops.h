// CPU reference ops: the meaning of every op of the engine, scalar and readable, with row- or
// head-parallel loops on a ThreadPool. Every backend's op is tested against these.
// Shapes are written [slow, fast] (fastest dimension last); activations are float32 row-major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace moe {
class ThreadPool;
}

namespace moe::ops {

// Quantized: any ggml block type that ops/quants dequantizes (ggmlType says which).
enum class WeightType { F32, F16, BF16, Quantized };

// A row-major weight matrix [rows, cols] (PyTorch [out, in]) in its storage type; not owned.
struct WeightView {
    const void* data = nullptr;
    WeightType type = WeightType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    uint32_t ggmlType = 0; // ggml type id of the blocks when type == Quantized
    // Bytes from one row to the next (cols must be whole blocks of a Quantized type).
    size_t rowBytes() const;
    // Converts row r to float32 into out[cols].
    void rowToF32(int64_t r, float* out) const;
    // The view of rows [first, first + count).
    WeightView rowsView(int64_t first, int64_t count) const;
};

// y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, for t < nTok; x, y: [nTok, n]. In-place allowed.
void rmsnorm(const float* x, const float* w, float* y, int nTok, int n, float eps);

// y[t, r] = sum_c x[t, c] * W[r, c]; x: [nTok, W.cols], y: [nTok, W.rows]. Rows split over pool.
void matmul(const float* x, int nTok, const WeightView& w, float* y, ThreadPool* pool);

// RoPE frequencies of one model (reference/model-formats.md §1.3-§1.4): invFreq[nRot/2] and the
// factor cos/sin are multiplied by (YaRN's attention_factor; 1 otherwise).
struct RopeFreqs {
    std::vector<float> invFreq;
    float attentionFactor = 1.0f;
};

// Scaling of the frequencies, as config.json's rope_scaling / rope_parameters give it. type:
// "none", "linear", "yarn", "llama3". factor: the configured factor; maxPositions:
// max_position_embeddings; originalContext: original_max_position_embeddings (0: unset).
struct RopeScalingParams {
    const char* type = "none";
    float factor = 1.0f;
    int maxPositions = 0;
    int originalContext = 0;
    float betaFast = 32.0f, betaSlow = 1.0f;
    float mscale = 0.0f, mscaleAllDim = 0.0f, attentionFactor = 0.0f; // 0: unset
    float lowFreqFactor = 1.0f, highFreqFactor = 4.0f;                 // llama3
};

// HF's _compute_default_rope_parameters / _compute_{linear,yarn,llama3}_parameters in float32.
RopeFreqs ropeFrequencies(int nRot, float theta, const RopeScalingParams& scaling);

// YaRN's get_mscale: 1 for factor <= 1, else 0.1 * m * ln(factor) + 1.
float yarnMscale(float factor, float m);

// Rotary embedding in place on x: nTok rows of stride rowStride; head h of a row starts at
// h * headStride + offset and its first nRot values rotate at position pos[t]:
// interleaved pairs (2i, 2i+1) (GGUF llama, DeepSeek) or half pairs (i, i + nRot/2).
void ropeApply(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
               int nRot, const int32_t* pos, const RopeFreqs& freqs, bool interleaved);

// Causal attention (eager HF semantics, softmax in f32) of nTok queries, query t at position
// pos[t] attending to its sequence's cache rows max(0, pos[t] - window + 1) .. pos[t]
// (window 0: all). q: [nTok, nHead*dk]; out: [nTok, nHead*dv]. Cache rows: K rows of stride
// kStride holding nHeadKv heads of dk, V rows of stride vStride holding nHeadKv heads of dv;
// K and V may share rows (MLA: V is the first dv values of each K row). Query head h reads KV
// head h / (nHead / nHeadKv). Rows are paged: row j of query t's sequence is physical row
// pages[t][j / pageSize] * pageSize + j % pageSize (pages null: row j is physical row j).
struct AttentionShape {
    int nHead = 0, nHeadKv = 0;
    int dk = 0, dv = 0;
    int64_t kStride = 0, vStride = 0;
    int window = 0;
};
struct KvPages {
    const int32_t* const* tables = nullptr; // per query token: its sequence's page table
    int pageSize = 0;
};
void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               const int32_t* pos, const KvPages& pages, const AttentionShape& shape, float scale,
               ThreadPool* pool);

// One sequence in contiguous rows, queries at positions pos0 .. pos0 + nTok - 1.
void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, const AttentionShape& shape, float scale, ThreadPool* pool);

// The GQA case: K and V heads both headDim wide, rows nHeadKv * headDim.
void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, int nHead, int nHeadKv, int headDim, float scale, ThreadPool* pool);

// In-place softmax over x[n].
void softmax(float* x, int n);

// Router (reference/model-formats.md §2.7, §7): scores = softmax(logits) or sigmoid(logits) in
// float32; selection over scores (+ bias when given: DeepSeek-V3's e_score_correction_bias, used
// for selection only); with nGroup > 1 experts form contiguous groups, each scored by its max
// ("group_limited_greedy") or the sum of its two best biased scores ("noaux_tc"), and experts
// outside the topkGroup best groups are set to 0.0 (as HF does); the k best (ties: lower index
// first); weights = the unbiased scores of the chosen, renormalized (w / (sum + 1e-20)) when
// normalize, then multiplied by scale. logits: [nTok, nExpert]; ids, weights: [nTok, k].
struct RouterParams {
    bool sigmoid = false;
    bool groupByTopTwoSum = false; // noaux_tc group score; else the max
    int nGroup = 1;
    int topkGroup = 1;
    int k = 1;
    bool normalize = false;
    float scale = 1.0f;
    const float* bias = nullptr; // [nExpert] or null
};
void route(const float* logits, int nTok, int nExpert, const RouterParams& params, int32_t* ids,
           float* weights);

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + exp(-z)).
void swiglu(const float* gate, const float* up, float* out, int64_t n);

} // namespace moe::ops
