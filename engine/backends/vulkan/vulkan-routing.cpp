// Routing ops of the Vulkan backend: route (shaders/route.comp, a single-invocation workgroup per
// token: every router variant and the expert policy's threshold) and accumulateRouting
// (shaders/routing-stats.comp in int64/double). References: ops::route, CpuBackend::route,
// CpuBackend::accumulateRouting. On a device without shaderInt64/shaderFloat64 the statistics are
// accumulated on the host: the op then submits and waits (the only op that does), which only
// happens when a session asked for routing statistics.
#include "backends/vulkan/vulkan-backend.h"

#include "route.spv.h"
#include "routing-stats.spv.h"

#include <vector>

namespace moe::vulkan {

void VulkanBackend::route(const float* logits, int nTok, int nExpert, const ops::RouterParams& p,
                          float threshold, bool renormalizeKept, int32_t* ids, float* weights) {
    Bound b;
    if (nTok <= 0) return;
    if (p.k < 1 || p.k > nExpert || (p.nGroup > 1 && nExpert % p.nGroup != 0)) {
        check(Status(StatusCode::InvalidArgument,
                     "vulkan route: k " + std::to_string(p.k) + " of " + std::to_string(nExpert) +
                         " experts in " + std::to_string(p.nGroup) + " groups"));
        return;
    }
    if (!fits("route", "experts", uint64_t(nExpert), 256) ||
        !bind("route", {{logits, 4}, {p.bias, 4}, {ids, 4}, {weights, 4}}, b))
        return;
    struct {
        uint32_t lOff, bOff, idOff, wOff, nTok, nExpert, k;
        uint32_t sigmoid, topTwoSum, nGroup, topkGroup, normalize, hasBias, renormalizeKept;
        float scale, threshold;
    } push{b.offset(0),
           b.offset(1),
           b.offset(2),
           b.offset(3),
           uint32_t(nTok),
           uint32_t(nExpert),
           uint32_t(p.k),
           p.sigmoid ? 1u : 0u,
           p.groupByTopTwoSum ? 1u : 0u,
           uint32_t(std::max(p.nGroup, 1)),
           uint32_t(std::max(p.topkGroup, 1)),
           p.normalize ? 1u : 0u,
           p.bias ? 1u : 0u,
           renormalizeKept ? 1u : 0u,
           p.scale,
           threshold};
    const auto [gx, gy] = grid(uint64_t(nTok));
    run("route", kSpv_route, {}, b, push, gx, gy);
}

void VulkanBackend::accumulateRouting(const int32_t* ids, const float* weights, int nSlots,
                                      int nExpert, int64_t* counts, double* sums) {
    if (nSlots <= 0 || nExpert <= 0 || failed()) return;
    const Capabilities& caps = m_ctx->caps();
    if (!(caps.int64 && caps.fp64)) {
        std::vector<int32_t> hIds(static_cast<size_t>(nSlots));
        std::vector<float> hW(static_cast<size_t>(nSlots));
        std::vector<int64_t> hC(static_cast<size_t>(nExpert));
        std::vector<double> hS(static_cast<size_t>(nExpert));
        if (!check(download(hIds.data(), ids, hIds.size() * 4)) ||
            !check(download(hW.data(), weights, hW.size() * 4)) ||
            !check(download(hC.data(), counts, hC.size() * 8)) ||
            !check(download(hS.data(), sums, hS.size() * 8)))
            return;
        for (int s = 0; s < nSlots; ++s) {
            if (hIds[size_t(s)] < 0 || hIds[size_t(s)] >= nExpert) continue;
            hC[size_t(hIds[size_t(s)])] += 1;
            hS[size_t(hIds[size_t(s)])] += hW[size_t(s)];
        }
        check(upload(counts, hC.data(), hC.size() * 8));
        check(upload(sums, hS.data(), hS.size() * 8));
        return;
    }
    Bound b;
    if (!bind("accumulateRouting", {{ids, 4}, {weights, 4}, {counts, 8}, {sums, 8}}, b)) return;
    struct {
        uint32_t idOff, wOff, cOff, sOff, nSlots, nExpert;
    } push{b.offset(0),    b.offset(1),      b.offset(2, 8),
           b.offset(3, 8), uint32_t(nSlots), uint32_t(nExpert)};
    const auto [gx, gy] = grid((uint64_t(nExpert) + 63) / 64);
    run("routing-stats", kSpv_routing_stats, {}, b, push, gx, gy);
}

} // namespace moe::vulkan
