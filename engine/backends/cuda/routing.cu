// MoE routing on the device: the router (ops::route, engine/ops/router.cpp: softmax or sigmoid
// scores, selection bias, group-limited selection by max or top-2 sum with 0.0 masking, top-k
// with lower-index ties, normalize, scale) fused with the expert policy's cumulative-weight cut
// (CpuBackend::route); the sort of the chosen slots by expert for the grouped expert matmul; the
// weighted combine of the expert outputs; the per-expert statistics. Nothing here goes back to
// the host: the expert lists are device arrays the grouped matmul reads.
#include "backends/cuda/cuda-kernels.h"

#include <algorithm>
#include <cmath>

namespace moe::cuda {
namespace {

// One thread per token, written as the CPU reference's loops (the expert counts are small).
__global__ void routeKernel(RouteArgs a) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= a.nTok) return;
    float scores[kRouteMaxExperts], sel[kRouteMaxExperts];
    const int n = a.nExpert, k = a.k;
    const float* lg = a.logits + int64_t(t) * n;
    if (a.sigmoid) {
        for (int e = 0; e < n; ++e) scores[e] = 1.0f / (1.0f + expf(-lg[e]));
    } else {
        float mx = -INFINITY;
        for (int e = 0; e < n; ++e) mx = fmaxf(mx, lg[e]);
        float sum = 0.0f;
        for (int e = 0; e < n; ++e) {
            scores[e] = expf(lg[e] - mx);
            sum += scores[e];
        }
        const float inv = 1.0f / sum;
        for (int e = 0; e < n; ++e) scores[e] *= inv;
    }
    for (int e = 0; e < n; ++e) sel[e] = scores[e] + (a.bias ? a.bias[e] : 0.0f);
    const int nGroup = max(a.nGroup, 1);
    if (nGroup > 1 && a.topkGroup < nGroup) {
        const int per = n / nGroup;
        float gs[kRouteMaxGroups];
        for (int g = 0; g < nGroup; ++g) {
            const float* s = sel + g * per;
            if (a.groupByTopTwoSum) {
                float b1 = -INFINITY, b2 = -INFINITY;
                for (int i = 0; i < per; ++i) {
                    if (s[i] > b1) {
                        b2 = b1;
                        b1 = s[i];
                    } else if (s[i] > b2) {
                        b2 = s[i];
                    }
                }
                gs[g] = per > 1 ? b1 + b2 : b1;
            } else {
                float b = -INFINITY;
                for (int i = 0; i < per; ++i) b = fmaxf(b, s[i]);
                gs[g] = b;
            }
        }
        uint64_t keep = 0; // the topkGroup best groups (ties: lower index)
        for (int j = 0; j < a.topkGroup; ++j) {
            int best = -1;
            for (int g = 0; g < nGroup; ++g)
                if (!((keep >> g) & 1) && (best < 0 || gs[g] > gs[best])) best = g;
            keep |= uint64_t(1) << best;
        }
        for (int e = 0; e < n; ++e)
            if (!((keep >> (e / per)) & 1)) sel[e] = 0.0f;
    }
    int32_t* id = a.ids + int64_t(t) * k;
    float* wt = a.weights + int64_t(t) * k;
    uint32_t taken[kRouteMaxExperts / 32] = {};
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) {
        int best = -1;
        for (int e = 0; e < n; ++e)
            if (!((taken[e / 32] >> (e % 32)) & 1) && (best < 0 || sel[e] > sel[best])) best = e;
        taken[best / 32] |= 1u << (best % 32);
        id[j] = best;
        sum += scores[best];
    }
    for (int j = 0; j < k; ++j) {
        float w = scores[id[j]];
        if (a.normalize) w /= sum + 1e-20f;
        wt[j] = w * a.scale;
    }
    if (a.threshold <= 0.0f) return;
    // The policy's cut: keep the fewest experts (by descending weight, stable) whose weights reach
    // threshold x their sum; renormalize the kept to the original sum when asked.
    int order[kRouteMaxExperts];
    for (int j = 0; j < k; ++j) {
        int at = j;
        while (at > 0 && wt[order[at - 1]] < wt[j]) {
            order[at] = order[at - 1];
            --at;
        }
        order[at] = j;
    }
    float total = 0.0f;
    for (int j = 0; j < k; ++j) total += wt[j];
    float accum = 0.0f;
    int kept = 0;
    while (kept < k && accum < a.threshold * total) accum += wt[order[kept++]];
    kept = max(kept, 1);
    if (kept == k) return;
    float keptSum = 0.0f;
    for (int j = 0; j < kept; ++j) keptSum += wt[order[j]];
    for (int j = kept; j < k; ++j) {
        id[order[j]] = -1;
        wt[order[j]] = 0.0f;
    }
    if (a.renormalizeKept && keptSum > 0.0f)
        for (int j = 0; j < kept; ++j) wt[order[j]] *= total / keptSum;
}

// One thread per expert, slots in order: the CPU's summation order, so the doubles agree.
__global__ void accumulateRoutingKernel(const int32_t* ids, const float* weights, int nSlots, int nExpert,
                                        int64_t* counts, double* sums) {
    const int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= nExpert) return;
    int64_t c = 0;
    double s = 0.0;
    for (int i = 0; i < nSlots; ++i)
        if (ids[i] == e) {
            ++c;
            s += weights[i];
        }
    counts[e] += c;
    sums[e] += s;
}

// One block: counts per expert, an exclusive scan, then each slot takes a place in its expert's
// range (the order inside a range does not matter: every position is computed on its own).
__global__ void sortByExpertKernel(const int32_t* ids, int nSlots, int k, int nExpert, int32_t* groupStart,
                                   int32_t* activeGroups, int32_t* nActive, int32_t* posOfSlot, int32_t* tokenOfPos) {
    __shared__ int counts[kRouteMaxExperts];
    __shared__ int cursor[kRouteMaxExperts];
    for (int e = threadIdx.x; e < nExpert; e += blockDim.x) counts[e] = 0;
    __syncthreads();
    for (int s = threadIdx.x; s < nSlots; s += blockDim.x)
        if (ids[s] >= 0 && ids[s] < nExpert) atomicAdd(&counts[ids[s]], 1);
    __syncthreads();
    if (threadIdx.x == 0) {
        int at = 0, active = 0;
        for (int e = 0; e < nExpert; ++e) {
            groupStart[e] = at;
            cursor[e] = at;
            if (counts[e] > 0) activeGroups[active++] = e;
            at += counts[e];
        }
        groupStart[nExpert] = at;
        *nActive = active;
    }
    __syncthreads();
    for (int s = threadIdx.x; s < nSlots; s += blockDim.x) {
        const int e = ids[s];
        if (e < 0 || e >= nExpert) {
            posOfSlot[s] = -1;
            continue;
        }
        const int p = atomicAdd(&cursor[e], 1);
        posOfSlot[s] = p;
        tokenOfPos[p] = s / k;
    }
}

__global__ void combineKernel(const float* ySorted, const int32_t* posOfSlot, const float* weights, int k, int64_t n,
                              float* out) {
    const int t = blockIdx.y;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < k; ++j) {
            const int p = posOfSlot[t * k + j];
            if (p >= 0) acc += weights[t * k + j] * ySorted[int64_t(p) * n + i];
        }
        out[int64_t(t) * n + i] = acc;
    }
}

} // namespace

void launchRoute(const RouteArgs& a, cudaStream_t s) {
    if (a.nTok <= 0) return;
    routeKernel<<<(a.nTok + 63) / 64, 64, 0, s>>>(a);
}

void launchAccumulateRouting(const int32_t* ids, const float* weights, int nSlots, int nExpert, int64_t* counts,
                             double* sums, cudaStream_t s) {
    if (nExpert <= 0) return;
    accumulateRoutingKernel<<<(nExpert + 127) / 128, 128, 0, s>>>(ids, weights, nSlots, nExpert, counts, sums);
}

void launchSortByExpert(const int32_t* ids, int nSlots, int k, int nExpert, int32_t* groupStart,
                        int32_t* activeGroups, int32_t* nActive, int32_t* posOfSlot, int32_t* tokenOfPos,
                        cudaStream_t s) {
    sortByExpertKernel<<<1, 1024, 0, s>>>(ids, nSlots, k, nExpert, groupStart, activeGroups, nActive, posOfSlot,
                                          tokenOfPos);
}

void launchCombineExperts(const float* ySorted, const int32_t* posOfSlot, const float* weights, int nTok, int k,
                          int64_t n, float* out, cudaStream_t s) {
    if (nTok <= 0 || n <= 0) return;
    const dim3 grid(unsigned(std::min<int64_t>((n + 255) / 256, 64)), unsigned(nTok));
    combineKernel<<<grid, 256, 0, s>>>(ySorted, posOfSlot, weights, k, n, out);
}

} // namespace moe::cuda
