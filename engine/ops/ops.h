// CPU reference ops: the meaning of every op of the engine, scalar and readable, with row- or
// head-parallel loops on a ThreadPool. Every backend's op is tested against these.
// Shapes are written [slow, fast] (fastest dimension last); activations are float32 row-major.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Rotary embedding on x: [nTok, nHead * headDim], rotating the first nRot dims of each head at
// positions pos[t]; frequencies inv_freq[i] = theta^(-2i/nRot) computed as HF does.
// interleaved: pairs (2i, 2i+1) (GGUF llama/deepseek); otherwise pairs (i, i + nRot/2).
void rope(float* x, int nTok, int nHead, int headDim, int nRot, const int32_t* pos, float theta,
          bool interleaved);

// Causal attention of nTok queries at positions pos0 .. pos0+nTok-1 against the cache rows
// 0 .. pos0+nTok-1. q: [nTok, nHead*headDim]; kCache, vCache: [>= pos0+nTok, nHeadKv*headDim];
// out: [nTok, nHead*headDim]. Query head h reads KV head h / (nHead / nHeadKv). Softmax in f32.
void attention(const float* q, const float* kCache, const float* vCache, float* out, int nTok,
               int pos0, int nHead, int nHeadKv, int headDim, float scale, ThreadPool* pool);

// In-place softmax over x[n].
void softmax(float* x, int n);

// Softmax router: probs = softmax(logits[t]); the k largest (ties: lower index first); when
// normalize, weights /= their sum. logits: [nTok, nExpert]; ids, weights: [nTok, k].
void routerSoftmaxTopK(const float* logits, int nTok, int nExpert, int k, bool normalize,
                       int32_t* ids, float* weights);

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + exp(-z)).
void swiglu(const float* gate, const float* up, float* out, int64_t n);

} // namespace moe::ops
