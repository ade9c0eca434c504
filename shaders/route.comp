#version 450
#extension GL_GOOGLE_include_directive : require
// Router of one token per workgroup (ops::route, engine/ops/router.cpp, then the expert policy's
// cumulative-weight threshold of CpuBackend::route): softmax or sigmoid scores; selection scores
// (+ bias); group-limited selection (groups scored by their max or top-two sum, experts outside
// the topkGroup best groups set to 0); the k best (ties: lower index first); weights = unbiased
// scores, renormalized (w / (sum + 1e-20)) when normalize, times scale. With threshold > 0: keep
// the fewest chosen (by descending weight, stable) whose weights reach threshold x their sum; the
// dropped get id -1 and weight 0; the kept are scaled by total / keptSum when renormalizeKept.
// Launch: one single-invocation workgroup per token (groupIndex()); the work is O(k * nExpert)
// serial steps, small next to the router matmul. Limit (checked by the host): nExpert <= 256.
layout(local_size_x = 1, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer LBuf { float logits[]; };
layout(std430, set = 0, binding = 1) readonly buffer BBuf { float bias[]; };
layout(std430, set = 0, binding = 2) writeonly buffer IBuf { int ids[]; };
layout(std430, set = 0, binding = 3) writeonly buffer WBuf { float weights[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint lOff, bOff, idOff, wOff, nTok, nExpert, k;
    uint sigmoid, topTwoSum, nGroup, topkGroup, normalize, hasBias, renormalizeKept;
    float scale, threshold;
} pc;

const uint kMaxExpert = 256;
shared float scores[kMaxExpert];
shared float sel[kMaxExpert];
shared bool taken[kMaxExpert];
shared int chosen[kMaxExpert];
shared float wt[kMaxExpert];
shared int order[kMaxExpert];

void main() {
    const uint t = groupIndex();
    if (t >= pc.nTok) return;
    const uint n = pc.nExpert, k = pc.k;
    const uint lb = pc.lOff + t * n;
    if (pc.sigmoid != 0u) {
        for (uint e = 0; e < n; ++e) scores[e] = 1.0 / (1.0 + exp(-logits[lb + e]));
    } else {
        float m = uintBitsToFloat(0xff800000u);
        for (uint e = 0; e < n; ++e) m = max(m, logits[lb + e]);
        float sum = 0.0;
        for (uint e = 0; e < n; ++e) {
            scores[e] = exp(logits[lb + e] - m);
            sum += scores[e];
        }
        const float inv = 1.0 / sum;
        for (uint e = 0; e < n; ++e) scores[e] *= inv;
    }
    for (uint e = 0; e < n; ++e) sel[e] = scores[e] + (pc.hasBias != 0u ? bias[pc.bOff + e] : 0.0);
    const uint nGroup = max(pc.nGroup, 1u);
    if (nGroup > 1 && pc.topkGroup < nGroup) {
        const uint per = n / nGroup;
        // Group scores in wt[0..nGroup), chosen groups marked in taken[0..nGroup).
        for (uint g = 0; g < nGroup; ++g) {
            float a = uintBitsToFloat(0xff800000u), b = a;
            for (uint i = 0; i < per; ++i) {
                const float v = sel[g * per + i];
                if (v > a) {
                    b = a;
                    a = v;
                } else if (v > b) {
                    b = v;
                }
            }
            wt[g] = pc.topTwoSum != 0u ? (per > 1 ? a + b : a) : a;
            taken[g] = false;
        }
        for (uint j = 0; j < pc.topkGroup; ++j) {
            int best = -1;
            for (uint g = 0; g < nGroup; ++g)
                if (!taken[g] && (best < 0 || wt[g] > wt[best])) best = int(g);
            taken[best] = true;
        }
        for (uint e = 0; e < n; ++e)
            if (!taken[e / per]) sel[e] = 0.0;
    }
    for (uint e = 0; e < n; ++e) taken[e] = false;
    float sum = 0.0;
    for (uint j = 0; j < k; ++j) {
        int best = -1;
        for (uint e = 0; e < n; ++e)
            if (!taken[e] && (best < 0 || sel[e] > sel[best])) best = int(e);
        taken[best] = true;
        chosen[j] = best;
        sum += scores[best];
    }
    for (uint j = 0; j < k; ++j) {
        float w = scores[chosen[j]];
        if (pc.normalize != 0u) w /= sum + 1e-20;
        wt[j] = w * pc.scale;
    }
    if (pc.threshold > 0.0) {
        // Stable descending order of the k weights (selection sort, first of equals first).
        for (uint j = 0; j < k; ++j) taken[j] = false;
        for (uint j = 0; j < k; ++j) {
            int best = -1;
            for (uint i = 0; i < k; ++i)
                if (!taken[i] && (best < 0 || wt[i] > wt[best])) best = int(i);
            taken[best] = true;
            order[j] = best;
        }
        float total = 0.0;
        for (uint j = 0; j < k; ++j) total += wt[j];
        float acc = 0.0;
        uint kept = 0;
        while (kept < k && acc < pc.threshold * total) acc += wt[order[kept++]];
        kept = max(kept, 1u);
        if (kept < k) {
            float keptSum = 0.0;
            for (uint j = 0; j < kept; ++j) keptSum += wt[order[j]];
            for (uint j = kept; j < k; ++j) {
                chosen[order[j]] = -1;
                wt[order[j]] = 0.0;
            }
            if (pc.renormalizeKept != 0u && keptSum > 0.0)
                for (uint j = 0; j < kept; ++j) wt[order[j]] *= total / keptSum;
        }
    }
    for (uint j = 0; j < k; ++j) {
        ids[pc.idOff + t * k + j] = chosen[j];
        weights[pc.wOff + t * k + j] = wt[j];
    }
}
