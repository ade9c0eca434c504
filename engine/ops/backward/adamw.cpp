// AdamW and global-norm gradient clipping, as torch.optim.AdamW (single-tensor path, amsgrad
// and maximize off) and torch.nn.utils.clip_grad_norm_ compute them, operation by operation in
// float32, with Python-double scalars where torch has them (the bias corrections, the step size):
//   param.mul_(1 - lr * wd)
//   exp_avg.lerp_(grad, 1 - beta1)                 lerp(a, b, w) = a + w (b - a) for w < 0.5
//   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
//   step_size = lr / (1 - beta1^step);  bc2_sqrt = sqrt(1 - beta2^step)
//   denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps);  param.addcdiv_(exp_avg, denom,
//   value=-step_size)
#include "ops/ops-backward.h"

#include <cmath>

namespace moe::ops {

void adamwStep(float* param, const float* grad, float* m, float* v, int64_t n, int64_t step,
               const AdamWParams& hp) {
    // Python evaluates these in double; torch's float32 kernels take them as float scalars.
    const double bc1 = 1.0 - std::pow(hp.beta1, double(step));
    const double bc2 = 1.0 - std::pow(hp.beta2, double(step));
    const float decay = float(1.0 - hp.lr * hp.weightDecay);
    const float w1 = float(1.0 - hp.beta1);
    const float beta2 = float(hp.beta2);
    const float w2 = float(1.0 - hp.beta2);
    const float stepSize = float(hp.lr / bc1);
    const float bc2Sqrt = float(std::sqrt(bc2));
    const float eps = float(hp.eps);
    for (int64_t i = 0; i < n; ++i) {
        const float g = grad[i];
        if (hp.weightDecay != 0) param[i] *= decay;
        m[i] = w1 < 0.5f ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * (1.0f - w1);
        v[i] = v[i] * beta2 + w2 * g * g;
        const float denom = std::sqrt(v[i]) / bc2Sqrt + eps;
        param[i] -= stepSize * (m[i] / denom);
    }
}

float clipGradNorm(std::span<const std::span<float>> grads, float maxNorm) {
    double ss = 0;
    for (const std::span<float>& g : grads)
        for (float x : g)
            ss += double(x) * x;
    const float total = float(std::sqrt(ss));
    if (maxNorm <= 0) return total;
    const float coef = std::fmin(maxNorm / (total + 1e-6f), 1.0f);
    for (const std::span<float>& g : grads)
        for (float& x : g)
            x *= coef;
    return total;
}

} // namespace moe::ops
