// Shared by the backend op tests: inputs, the CPU reference (engine/ops, the meaning of every
// op, STYLE rule 15) and the normalized error a backend's result is judged by.
#pragma once

#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace backend_check {

// max_i |got_i - want_i| / max_i |want_i| (absolute error when `want` is all zeros);
// infinity when any output is not finite (an element a kernel never wrote stays NaN).
inline double maxNormalizedError(const std::vector<float>& got, const std::vector<float>& want) {
    double maxErr = 0.0;
    double maxRef = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        maxErr = std::max(maxErr, std::abs(double(got[i]) - double(want[i])));
        maxRef = std::max(maxRef, std::abs(double(want[i])));
    }
    return maxRef > 0.0 ? maxErr / maxRef : maxErr;
}

inline std::vector<float> randomVector(size_t count, float lo, float hi, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(count);
    for (float& f : v) f = dist(gen);
    return v;
}

// The CPU reference op (engine/ops/rmsnorm.cpp).
inline std::vector<float> referenceRmsnorm(const std::vector<float>& x, const std::vector<float>& w,
                                           int64_t nRows, int64_t n, float eps) {
    std::vector<float> y(x.size());
    moe::ops::rmsnorm(x.data(), w.data(), y.data(), int(nRows), int(n), eps);
    return y;
}

} // namespace backend_check
