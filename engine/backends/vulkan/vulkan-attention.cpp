// Paged causal attention of the Vulkan backend (shaders/attention.comp: a workgroup per
// (token, head), keys in tiles with a running softmax). Reference: ops::attention over the
// PagedRows addressing of backends/backend.h.
#include "backends/vulkan/vulkan-backend.h"

#include "attention.spv.h"

namespace moe::vulkan {

void VulkanBackend::attention(const float* q, const float* kCache, const float* vCache, float* out,
                              int nTok, const int32_t* pos, const PagedRows& rows,
                              const ops::AttentionShape& sh, float scale) {
    Bound b;
    if (nTok <= 0 || sh.nHead <= 0) return;
    if (sh.nHeadKv <= 0 || sh.nHead % sh.nHeadKv != 0 || rows.pageSize <= 0) {
        check(Status(StatusCode::InvalidArgument, "vulkan attention: " + std::to_string(sh.nHead) +
                                                      " heads over " + std::to_string(sh.nHeadKv) +
                                                      " KV heads, page size " +
                                                      std::to_string(rows.pageSize)));
        return;
    }
    if (!fits("attention", "dk", uint64_t(sh.dk), 1024) ||
        !fits("attention", "dv", uint64_t(sh.dv), 1024) ||
        !fits("attention", "query elements",
              uint64_t(nTok) * uint64_t(sh.nHead) * uint64_t(std::max(sh.dk, sh.dv)), UINT32_MAX) ||
        !bind("attention",
              {{q, 4},
               {kCache, 4},
               {vCache, 4},
               {out, 4},
               {pos, 4},
               {rows.tables, 4},
               {rows.seqOfToken, 4}},
              b))
        return;
    struct {
        uint32_t qOff, kOff, vOff, oOff, posOff, tabOff, seqOff;
        uint32_t nTok, nHead, nHeadKv, dk, dv, kStride, vStride, window, tableStride, pageSize;
        float scale;
    } push{b.offset(0),
           b.offset(1),
           b.offset(2),
           b.offset(3),
           b.offset(4),
           b.offset(5),
           b.offset(6),
           uint32_t(nTok),
           uint32_t(sh.nHead),
           uint32_t(sh.nHeadKv),
           uint32_t(sh.dk),
           uint32_t(sh.dv),
           uint32_t(sh.kStride),
           uint32_t(sh.vStride),
           uint32_t(std::max(sh.window, 0)),
           uint32_t(rows.tableStride),
           uint32_t(rows.pageSize),
           scale};
    const auto [gx, gy] = grid(uint64_t(nTok) * uint64_t(sh.nHead));
    run("attention", kSpv_attention, {}, b, push, gx, gy);
}

} // namespace moe::vulkan
