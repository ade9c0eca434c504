// Finite-difference gradient checks shared by the backward-op suites (test-ops-backward,
// test-training-ops). A scalar L = sum_i out_i * R_i with fixed random R, accumulated in double;
// each input element x is moved to the float neighbours x +- h and the difference divided by the
// actual float step (x + h rounds). Error: ||analytic - numeric||_2 / ||numeric||_2 over the
// whole gradient tensor, printed per check so the logs show the measured margins.
#pragma once

#include "core/rng.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace moe::test {

inline std::vector<float> randomVec(size_t n, uint64_t seed, float scale = 1.0f) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (float& x : v)
        x = rng.symmetric() * scale;
    return v;
}

inline double dotD(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i)
        s += double(a[i]) * b[i];
    return s;
}

// Central differences of loss() with respect to every element of x (restored afterwards).
inline std::vector<double> numericGrad(std::vector<float>& x, const std::function<double()>& loss,
                                       float h = 1e-2f) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const float x0 = x[i];
        const float xp = x0 + h, xm = x0 - h;
        x[i] = xp;
        const double lp = loss();
        x[i] = xm;
        const double lm = loss();
        x[i] = x0;
        g[i] = (lp - lm) / (double(xp) - double(xm));
    }
    return g;
}

inline double relErr(const std::vector<float>& analytic, const std::vector<double>& numeric) {
    double num = 0, den = 0;
    for (size_t i = 0; i < numeric.size(); ++i) {
        num += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i]);
        den += numeric[i] * numeric[i];
    }
    return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// Fails the calling test when the relative error exceeds tol.
#define CHECK_GRAD(analytic, numeric, tol)                                                         \
    do {                                                                                           \
        const double err_ = relErr(analytic, numeric);                                             \
        qInfo("%s: relative error %.3g", #analytic, err_);                                         \
        if (!(err_ <= (tol)))                                                                      \
            QFAIL(qPrintable(                                                                      \
                QString("%1: relative error %2 > %3").arg(#analytic).arg(err_).arg(tol)));         \
    } while (0)

} // namespace moe::test
