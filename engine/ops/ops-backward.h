// CPU reference backward ops: the gradient of every forward op of ops.h, plus the LoRA linear,
// cross-entropy, embedding scatter-add and the AdamW step with global-norm clipping. Scalar,
// float32, readable; row- or head-parallel on a ThreadPool where that is free of races. Every
// backend's backward op and the trainer are judged against these; the tests check each one
// against central finite differences of its forward reference.
//
// Conventions, for every function here:
//   - Shapes as in ops.h: [slow, fast], fastest dimension last, float32 row-major.
//   - Gradients of activations (dx, dq, dGate, dLogits, ...) are WRITTEN (overwritten).
//   - Gradients of parameters (dWeight, dA, dB, dEmbd, ...) are ADDED TO (+=), so gradient
//     accumulation over micro-batches and weights used twice need no extra buffers. The one
//     exception is attentionBackward's dK/dV, which are accumulated because K and V may share rows.
//   - Nothing is saved by the forward ops: each backward takes the forward's inputs (and, where
//     named, a small saved tensor) and recomputes what it needs.
#pragma once

#include "moe/status.h"
#include "ops/ops.h"

#include <cstdint>
#include <span>

namespace moe::ops {

// ---- norm -----------------------------------------------------------------------------------

// Backward of rmsnorm: y = x * r * w, r = 1 / sqrt(mean(x^2) + eps) per row.
// x, dy: [nTok, n]; w: [n]. dx [nTok, n] written (may not alias x or dy); dw [n] accumulated
// (null: not wanted). Rows split over pool.
void rmsnormBackward(const float* x, const float* w, const float* dy, float* dx, float* dw,
                     int nTok, int n, float eps, ThreadPool* pool);

// ---- matmul ---------------------------------------------------------------------------------

// Backward of matmul to its input: dx[t, c] = sum_r dy[t, r] * W[r, c] for any WeightView type
// (rows dequantized as the forward does). dy: [nTok, W.rows]; dx: [nTok, W.cols] written.
// This is also the forward of y = x · W (no transpose), as MLA's absorbed query uses kv_b rows.
void matmulBackwardInput(const float* dy, int nTok, const WeightView& w, float* dx,
                         ThreadPool* pool);

// Backward of matmul to an F32 trainable weight: dW[r, c] += sum_t dy[t, r] * x[t, c].
// x: [nTok, cols]; dy: [nTok, rows]; dw: [rows, cols] accumulated. Rows split over pool.
void matmulBackwardWeight(const float* x, const float* dy, int nTok, int64_t rows, int64_t cols,
                          float* dw, ThreadPool* pool);

// Backward of a bias add y[t, i] += b[i]: db[i] += sum_t dy[t, i]; dy: [nTok, n].
void biasBackward(const float* dy, int nTok, int64_t n, float* db);

// ---- LoRA linear (reference/model-formats.md §11.4) ------------------------------------------

// A LoRA pair on a linear W [out, in]: A [rank, in], B [out, rank] (PEFT's lora_A / lora_B), both
// float32, and scaling = alpha / rank (alpha / sqrt(rank) with rsLoRA).
struct LoraAdapter {
    const float* a = nullptr;
    const float* b = nullptr;
    int rank = 0;
    float scaling = 1.0f;
};

// PEFT's scaling: alpha / rank, or alpha / sqrt(rank) with rsLoRA.
float loraScaling(float alpha, int rank, bool rsLora);

// y = x · Wᵀ + scaling · ((m ⊙ x) · Aᵀ) · Bᵀ. x: [nTok, in]; y: [nTok, out] written.
// mask: [nTok, in] dropout multipliers as nn.Dropout applies them in training (0 or 1/(1-p)),
// or null (no dropout, inference). xa: [nTok, rank] written with (m ⊙ x) · Aᵀ, the one tensor
// loraBackward needs saved (null: not saved).
void loraForward(const float* x, int nTok, const WeightView& w, const LoraAdapter& lora,
                 const float* mask, float* y, float* xa, ThreadPool* pool);

// Backward of loraForward with W frozen. x, mask, xa as given to / saved by loraForward; dy:
// [nTok, out]. dx [nTok, in] written: dy · W + m ⊙ (scaling · dy · B) · A. dA [rank, in] and
// dB [out, rank] accumulated (null: not wanted).
void loraBackward(const float* x, const float* dy, int nTok, const WeightView& w,
                  const LoraAdapter& lora, const float* mask, const float* xa, float* dx, float* dA,
                  float* dB, ThreadPool* pool);

// ---- rope -----------------------------------------------------------------------------------

// Backward of ropeApply, in place on the gradient g laid out as ropeApply's x (same strides,
// heads, offset, nRot, positions, frequencies, pairing): the rotation by -angle, times the
// attention factor (the forward is attentionFactor · R(angle), so its transpose is this).
void ropeBackward(float* g, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
                  int nRot, const int32_t* pos, const RopeFreqs& freqs, bool interleaved);

// ---- attention ------------------------------------------------------------------------------

// Backward of the contiguous attention (ops.h): one sequence, queries at pos0 .. pos0 + nTok - 1
// over cache rows 0 .. pos0 + nTok - 1, causal, optional window, GQA, dk != dv, K and V rows of
// their own strides (or shared, MLA). Saves nothing: the softmax is recomputed from q, K, V.
// dOut: [nTok, nHead * dv]. dq [nTok, nHead * dk] written. dK, dV laid out as kCache, vCache
// (pos0 + nTok rows of kStride / vStride) and ACCUMULATED: the caller zeroes them; with K and V
// sharing rows pass the same buffer for both. Parallel over KV heads when dK != dV.
void attentionBackward(const float* q, const float* kCache, const float* vCache, const float* dOut,
                       float* dq, float* dK, float* dV, int nTok, int pos0,
                       const AttentionShape& shape, float scale, ThreadPool* pool);

// ---- swiglu ---------------------------------------------------------------------------------

// Backward of swiglu out = silu(gate) * up: dGate = dOut * up * silu'(gate),
// dUp = dOut * silu(gate), silu'(z) = s(z) * (1 + z * (1 - s(z))). All [n]; outputs written.
void swigluBackward(const float* gate, const float* up, const float* dOut, float* dGate, float* dUp,
                    int64_t n);

// ---- router ---------------------------------------------------------------------------------

// Backward of route() with the chosen experts held fixed (as transformers: gradients flow
// through the chosen experts' weights into the logits; selection, groups and the selection bias
// are not differentiated). logits: [nTok, nExpert] as given to route(); ids: [nTok, k] as route()
// chose them (all valid: expert policies that drop experts are for inference, not training);
// dWeights: [nTok, k], the gradient of the routed weights. dLogits [nTok, nExpert] written:
//   w_j = scale * p_j / (S + 1e-20) (normalize) or scale * p_j, S = sum of the chosen p,
//   p = softmax(logits) (dl = p ⊙ (dp - <p, dp>)) or sigmoid(logits) (dl = dp * p * (1 - p)).
void routeBackward(const float* logits, const int32_t* ids, const float* dWeights, int nTok,
                   int nExpert, const RouterParams& params, float* dLogits);

// ---- loss -----------------------------------------------------------------------------------

// Label of a position that counts for nothing (PyTorch's ignore_index default).
constexpr int32_t kIgnoreLabel = -100;

struct CrossEntropyResult {
    double loss = 0;     // sum over counted positions of -log softmax(logits)[label], / divisor
    int64_t counted = 0; // positions whose label is not kIgnoreLabel
};

// Cross-entropy of logits [nTok, nVocab] against labels [nTok] (already aligned: labels[t] is
// the target of logits row t; the caller shifts). Positions labelled kIgnoreLabel contribute
// nothing to the loss or the gradient. divisor: the mean's denominator (0: counted, as
// F.cross_entropy's mean; gradient accumulation passes the count of the whole batch). dLogits
// [nTok, nVocab] written with (softmax - onehot) / divisor on counted rows, 0 on ignored ones
// (null: loss only). No counted position: loss 0 and a zero gradient (PyTorch gives NaN).
// Fails (InvalidArgument, naming the position) on a label outside [0, nVocab) other than -100.
Result<CrossEntropyResult> crossEntropy(const float* logits, const int32_t* labels, int nTok,
                                        int nVocab, int64_t divisor, float* dLogits,
                                        ThreadPool* pool);

// ---- embedding ------------------------------------------------------------------------------

// Backward of the embedding gather h[t] = E[ids[t]]: dE[ids[t], :] += dh[t, :] (scatter-add;
// repeated ids add up). dh: [nTok, nEmbd]; dEmbd: [nVocab, nEmbd] accumulated. ids must be in
// range (the forward has already checked them).
void embeddingBackward(const int32_t* ids, const float* dh, int nTok, int64_t nEmbd, float* dEmbd);

// ---- optimizer ------------------------------------------------------------------------------

// torch.optim.AdamW hyper-parameters (its defaults; amsgrad and maximize off). Double, as the
// Python floats torch receives them as: 1 - beta1 must round as Python rounds it.
struct AdamWParams {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 1e-2;
};

// One AdamW step on n parameters, step = 1, 2, ... (the count after this update), exactly as
// torch.optim.AdamW's single-tensor path computes it in float32:
//   p *= 1 - lr * wd;  m = lerp(m, g, 1 - b1);  v = b2 * v + (1 - b2) * g^2;
//   p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps)
// with the bias corrections in double, as Python computes them. m, v: [n], zero before step 1.
void adamwStep(float* param, const float* grad, float* m, float* v, int64_t n, int64_t step,
               const AdamWParams& params);

// torch.nn.utils.clip_grad_norm_ over every gradient tensor: total = the L2 norm of all values
// (accumulated in double); every gradient is multiplied by min(1, maxNorm / (total + 1e-6)).
// Returns total (before clipping). maxNorm <= 0: only measures.
float clipGradNorm(std::span<const std::span<float>> grads, float maxNorm);

} // namespace moe::ops
