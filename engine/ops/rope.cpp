// RoPE reference, both pairings, with HF's frequency computations (reference/model-formats.md
// §1.3-§1.4): inv_freq[i] = 1 / theta^(2i/nRot) in float32, scaled per rope type (linear, YaRN,
// llama3), angle = pos * inv_freq in float32, cos/sin times the attention factor.
#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace moe::ops {

float yarnMscale(float factor, float m) {
    if (factor <= 1.0f) return 1.0f;
    return 0.1f * m * std::log(factor) + 1.0f;
}

namespace {

// YaRN (HF _compute_yarn_parameters): keep the fast rotations, interpolate the slow ones by
// 1/factor, with a linear ramp between the correction dims of beta_fast and beta_slow.
void applyYarn(std::vector<float>& invFreq, int nRot, float theta, const RopeScalingParams& s,
               float& attentionFactor) {
    float factor = s.factor;
    int original = s.maxPositions;
    if (s.originalContext > 0) {
        original = s.originalContext;
        // HF: models that set original_max_position_embeddings (DeepSeek) use the ratio of the
        // two context lengths as the factor.
        if (s.maxPositions > 0) factor = float(s.maxPositions) / float(s.originalContext);
    }
    if (s.attentionFactor > 0)
        attentionFactor = s.attentionFactor;
    else if (s.mscale > 0 && s.mscaleAllDim > 0)
        attentionFactor = yarnMscale(factor, s.mscale) / yarnMscale(factor, s.mscaleAllDim);
    else
        attentionFactor = yarnMscale(factor, 1.0f);
    // find_correction_dim and the ramp in double, as Python computes them.
    auto findDim = [&](double rotations) {
        return double(nRot) * std::log(double(original) / (rotations * 2.0 * std::numbers::pi)) /
               (2.0 * std::log(double(theta)));
    };
    double low = std::floor(findDim(s.betaFast));
    double high = std::ceil(findDim(s.betaSlow));
    low = std::max(low, 0.0);
    high = std::min(high, double(nRot - 1));
    if (low == high) high += 0.001;
    const int half = nRot / 2;
    for (int i = 0; i < half; ++i) {
        const float ramp = std::clamp(float((double(i) - low) / (high - low)), 0.0f, 1.0f);
        const float extrapolationFactor = 1.0f - ramp;
        const float posFreq = std::pow(theta, float(2 * i) / float(nRot));
        const float extrapolation = 1.0f / posFreq;
        const float interpolation = 1.0f / (factor * posFreq);
        invFreq[size_t(i)] = interpolation * (1.0f - extrapolationFactor) + extrapolation * extrapolationFactor;
    }
}

// Llama 3.1 (HF _compute_llama3_parameters): long wavelengths divided by factor, short kept,
// a smooth blend between.
void applyLlama3(std::vector<float>& invFreq, const RopeScalingParams& s) {
    const float original = float(s.originalContext > 0 ? s.originalContext : 8192);
    const float lowWavelen = original / s.lowFreqFactor;
    const float highWavelen = original / s.highFreqFactor;
    for (float& f : invFreq) {
        const float wavelen = 2.0f * std::numbers::pi_v<float> / f;
        if (wavelen > lowWavelen) {
            f = f / s.factor;
        } else if (wavelen >= highWavelen) {
            const float smooth = (original / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
            f = (1.0f - smooth) * f / s.factor + smooth * f;
        }
    }
}

} // namespace

RopeFreqs ropeFrequencies(int nRot, float theta, const RopeScalingParams& s) {
    RopeFreqs r;
    const int half = nRot / 2;
    r.invFreq.resize(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i) r.invFreq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(nRot));
    if (std::strcmp(s.type, "linear") == 0) {
        for (float& f : r.invFreq) f /= s.factor;
    } else if (std::strcmp(s.type, "yarn") == 0) {
        applyYarn(r.invFreq, nRot, theta, s, r.attentionFactor);
    } else if (std::strcmp(s.type, "llama3") == 0) {
        applyLlama3(r.invFreq, s);
    }
    return r;
}

void ropeApply(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride, int offset,
               int nRot, const int32_t* pos, const RopeFreqs& freqs, bool interleaved) {
    const int half = nRot / 2;
    std::vector<float> cosv(static_cast<size_t>(half)), sinv(static_cast<size_t>(half));
    for (int t = 0; t < nTok; ++t) {
        for (int i = 0; i < half; ++i) {
            const float a = float(pos[t]) * freqs.invFreq[size_t(i)];
            cosv[size_t(i)] = std::cos(a) * freqs.attentionFactor;
            sinv[size_t(i)] = std::sin(a) * freqs.attentionFactor;
        }
        for (int h = 0; h < nHead; ++h) {
            float* v = x + int64_t(t) * rowStride + int64_t(h) * headStride + offset;
            for (int i = 0; i < half; ++i) {
                const int a = interleaved ? 2 * i : i;
                const int b = interleaved ? 2 * i + 1 : i + half;
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * cosv[size_t(i)] - x1 * sinv[size_t(i)];
                v[b] = x1 * cosv[size_t(i)] + x0 * sinv[size_t(i)];
            }
        }
    }
}

} // namespace moe::ops
