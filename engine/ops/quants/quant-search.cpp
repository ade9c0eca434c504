// Scale searches of the K-quant quantizers (see quant-search.h).
#include "ops/quants/quant-search.h"

#include <algorithm>

namespace moe::quants {

namespace {

constexpr float kGroupMaxEps = 1e-15f;

} // namespace

float makeQx(int n, int nmax, const float* x, int8_t* L, const float* qw) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, int8_t(0));
        return 0.f;
    }
    auto weight = [&](int i) { return qw ? qw[i] : x[i] * x[i]; };
    auto level = [&](float iscale, int i) { return std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1); };
    float iscale = -float(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = level(iscale, i);
        L[i] = int8_t(l + nmax);
        sumlx += weight(i) * x[i] * float(l);
        suml2 += weight(i) * float(l * l);
    }
    float scale = suml2 > 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(float(nmax) + 0.1f * float(is)) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = level(iscale, i);
            sumlx += weight(i) * x[i] * float(l);
            suml2 += weight(i) * float(l * l);
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) L[i] = int8_t(level(iscale, i) + nmax);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

float makeQ3(int n, int nmax, const float* x, int8_t* L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, int8_t(0));
        return 0.f;
    }
    const float iscale = -float(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        L[i] = int8_t(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * float(l);
        suml2 += w * float(l * l);
    }
    // Coordinate descent: move one level at a time while the weighted fit improves.
    for (int itry = 0; itry < 5; ++itry) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * float(L[i]);
            if (slx <= 0) continue;
            float sl2 = suml2 - w * float(L[i] * L[i]);
            const int newL = std::clamp(nearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (newL == L[i]) continue;
            slx += w * x[i] * float(newL);
            sl2 += w * float(newL * newL);
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = int8_t(newL);
                sumlx = slx;
                suml2 = sl2;
                ++changed;
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
    return suml2 > 0 ? sumlx / suml2 : 0.0f;
}

float makeQkx2(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin,
               uint8_t* Laux, float rmin, float rdelta, int nstep, bool useMad) {
    float min = x[0], max = x[0], sumW = weights[0], sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sumW += weights[i];
        sumX += weights[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L, L + n, uint8_t(0));
        *theMin = -min;
        return 0.f;
    }
    auto err = [&](float diff) { return useMad ? std::fabs(diff) : diff * diff; };
    float iscale = float(nmax) / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = uint8_t(std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax));
        bestError += weights[i] * err(scale * float(L[i]) + min - x[i]);
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = uint8_t(l);
            sumL += weights[i] * float(l);
            sumL2 += weights[i] * float(l * l);
            sumXL += weights[i] * float(l) * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D <= 0) continue;
        float thisScale = (sumW * sumXL - sumX * sumL) / D;
        float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
        if (thisMin > 0) {
            thisMin = 0;
            thisScale = sumXL / sumL2;
        }
        float curError = 0;
        for (int i = 0; i < n; ++i) curError += weights[i] * err(thisScale * float(Laux[i]) + thisMin - x[i]);
        if (curError < bestError) {
            std::copy(Laux, Laux + n, L);
            bestError = curError;
            scale = thisScale;
            min = thisMin;
        }
    }
    *theMin = -min;
    return scale;
}

} // namespace moe::quants
