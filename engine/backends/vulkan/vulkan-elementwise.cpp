// Row-wise and element-wise ops of the Vulkan backend: embed, rmsnorm, add/addRows, swiglu,
// sigmoidGateAdd, copy2d/gatherRows/scatterRows (one copy-rows kernel), rope. Each resolves its
// pointers, fills the push constants its shader declares and records one dispatch.
// Kernels: shaders/embed.comp, rmsnorm.comp, add.comp, swiglu.comp, sigmoid-gate-add.comp,
// copy-rows.comp, rope.comp (each cites its reference and launch geometry).
#include "backends/vulkan/vulkan-backend.h"

#include "add.spv.h"
#include "copy-rows.spv.h"
#include "embed.spv.h"
#include "rmsnorm.spv.h"
#include "rope.spv.h"
#include "sigmoid-gate-add.spv.h"
#include "swiglu.spv.h"

namespace moe::vulkan {
namespace {

constexpr uint64_t kIndexLimit = UINT32_MAX; // the kernels index with 32-bit uints

uint32_t u32(int64_t v) {
    return uint32_t(v);
}

} // namespace

void VulkanBackend::embed(const ops::WeightView& table, const int32_t* ids, int n, float* out) {
    KernelWeight type;
    uint32_t nChunks = 0;
    Bound b;
    if (n <= 0 || !kernelWeight("embed", table, type, nChunks) ||
        !fits("embed", "output elements", uint64_t(n) * uint64_t(table.cols), kIndexLimit) ||
        !bind("embed", {{table.data, 1}, {ids, 4}, {out, 4}}, b))
        return;
    struct {
        uint32_t wOff, idOff, outOff, n, cols, rowBytes, nChunks;
    } push{b.offset(0, 1), b.offset(1),     b.offset(2),
           u32(n),         u32(table.cols), u32(int64_t(table.rowBytes())),
           nChunks};
    const auto [gx, gy] = grid((nChunks + 63) / 64);
    run("embed", kSpv_embed, {uint32_t(type)}, b, push, gx, gy, u32(n));
}

void VulkanBackend::rmsnorm(const float* x, int64_t xStride, const float* w, float* y,
                            int64_t yStride, int rows, int n, float eps) {
    Bound b;
    if (rows <= 0 || n <= 0 ||
        !fits("rmsnorm", "last element", uint64_t(rows) * uint64_t(std::max(xStride, yStride)),
              kIndexLimit) ||
        !bind("rmsnorm", {{x, 4}, {w, 4}, {y, 4}}, b))
        return;
    struct {
        uint32_t xOff, xStride, wOff, yOff, yStride, rows, n;
        float eps;
    } push{b.offset(0),  u32(xStride), b.offset(1), b.offset(2),
           u32(yStride), u32(rows),    u32(n),      eps};
    const auto [gx, gy] = grid(uint64_t(rows));
    run("rmsnorm", kSpv_rmsnorm, {}, b, push, gx, gy);
}

void VulkanBackend::addRows(float* y, const float* bias, int rows, int64_t n) {
    Bound b;
    const uint64_t total = uint64_t(std::max(rows, 0)) * uint64_t(std::max<int64_t>(n, 0));
    if (total == 0 || !fits("addRows", "elements", total, kIndexLimit) ||
        !bind("addRows", {{y, 4}, {bias, 4}}, b))
        return;
    struct {
        uint32_t yOff, xOff, total, n;
    } push{b.offset(0), b.offset(1), uint32_t(total), u32(n)};
    const auto [gx, gy] = grid((total + 255) / 256);
    run("add", kSpv_add, {}, b, push, gx, gy);
}

void VulkanBackend::add(float* y, const float* x, int64_t n) {
    addRows(y, x, 1, n);
}

void VulkanBackend::swiglu(const float* gate, const float* up, float* out, int64_t n) {
    Bound b;
    if (n <= 0 || !fits("swiglu", "elements", uint64_t(n), kIndexLimit) ||
        !bind("swiglu", {{gate, 4}, {up, 4}, {out, 4}}, b))
        return;
    struct {
        uint32_t gOff, uOff, oOff, n;
    } push{b.offset(0), b.offset(1), b.offset(2), u32(n)};
    const auto [gx, gy] = grid((uint64_t(n) + 255) / 256);
    run("swiglu", kSpv_swiglu, {}, b, push, gx, gy);
}

void VulkanBackend::sigmoidGateAdd(float* out, const float* s, const float* x, const float* g,
                                   int nTok, int64_t n) {
    Bound b;
    if (nTok <= 0 || n <= 0 ||
        !fits("sigmoidGateAdd", "elements", uint64_t(nTok) * uint64_t(n), kIndexLimit) ||
        !bind("sigmoidGateAdd", {{out, 4}, {s, 4}, {x, 4}, {g, 4}}, b))
        return;
    struct {
        uint32_t oOff, sOff, xOff, gOff, nTok, n;
    } push{b.offset(0), b.offset(1), b.offset(2), b.offset(3), u32(nTok), u32(n)};
    const auto [gx, gy] = grid(uint64_t(nTok));
    run("sigmoid-gate-add", kSpv_sigmoid_gate_add, {}, b, push, gx, gy);
}

namespace {

struct CopyRowsPush {
    uint32_t dOff, dStride, sOff, sStride, iOff, rows, cols, mode;
};

} // namespace

void VulkanBackend::copy2d(float* dst, int64_t dstStride, const float* src, int64_t srcStride,
                           int rows, int64_t cols) {
    Bound b;
    const uint64_t total = uint64_t(std::max(rows, 0)) * uint64_t(std::max<int64_t>(cols, 0));
    if (total == 0 || !fits("copy2d", "elements", total, kIndexLimit) ||
        !bind("copy2d", {{dst, 4}, {src, 4}}, b))
        return;
    const CopyRowsPush push{b.offset(0), u32(dstStride), b.offset(1), u32(srcStride),
                            0,           u32(rows),      u32(cols),   0};
    const auto [gx, gy] = grid((total + 255) / 256);
    run("copy-rows", kSpv_copy_rows, {}, b, push, gx, gy);
}

void VulkanBackend::gatherRows(float* dst, const float* src, const int32_t* rows, int n,
                               int64_t width) {
    Bound b;
    const uint64_t total = uint64_t(std::max(n, 0)) * uint64_t(std::max<int64_t>(width, 0));
    if (total == 0 || !fits("gatherRows", "elements", total, kIndexLimit) ||
        !bind("gatherRows", {{dst, 4}, {src, 4}, {rows, 4}}, b))
        return;
    const CopyRowsPush push{b.offset(0), u32(width), b.offset(1), u32(width),
                            b.offset(2), u32(n),     u32(width),  1};
    const auto [gx, gy] = grid((total + 255) / 256);
    run("copy-rows", kSpv_copy_rows, {}, b, push, gx, gy);
}

void VulkanBackend::scatterRows(float* dst, const float* src, const int32_t* rows, int n,
                                int64_t width) {
    Bound b;
    const uint64_t total = uint64_t(std::max(n, 0)) * uint64_t(std::max<int64_t>(width, 0));
    if (total == 0 || !fits("scatterRows", "elements", total, kIndexLimit) ||
        !bind("scatterRows", {{dst, 4}, {src, 4}, {rows, 4}}, b))
        return;
    const CopyRowsPush push{b.offset(0), u32(width), b.offset(1), u32(width),
                            b.offset(2), u32(n),     u32(width),  2};
    const auto [gx, gy] = grid((total + 255) / 256);
    run("copy-rows", kSpv_copy_rows, {}, b, push, gx, gy);
}

void VulkanBackend::rope(float* x, int nTok, int64_t rowStride, int nHead, int64_t headStride,
                         int offset, int nRot, const int32_t* pos, const RopeTable& freqs,
                         bool interleaved) {
    Bound b;
    const uint64_t total = uint64_t(std::max(nTok, 0)) * uint64_t(std::max(nHead, 0)) *
                           uint64_t(std::max(nRot / 2, 0));
    if (total == 0 || !fits("rope", "rotations", total, kIndexLimit) ||
        !bind("rope", {{x, 4}, {pos, 4}, {freqs.invFreq, 4}}, b))
        return;
    struct {
        uint32_t xOff, posOff, fOff, nTok, rowStride, nHead, headStride, offset, half, interleaved;
        float attentionFactor;
    } push{b.offset(0),          b.offset(1),     b.offset(2), u32(nTok),     u32(rowStride),
           u32(nHead),           u32(headStride), u32(offset), u32(nRot / 2), interleaved ? 1u : 0u,
           freqs.attentionFactor};
    const auto [gx, gy] = grid((total + 255) / 256);
    run("rope", kSpv_rope, {}, b, push, gx, gy);
}

} // namespace moe::vulkan
