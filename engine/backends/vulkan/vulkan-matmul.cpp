// Dense matmuls of the Vulkan backend over weights in any storage type the shaders decode
// (shaders/dequant.glsl): y = x Wᵀ (shaders/matmul.comp: a workgroup per weight row and tile of
// kTile tokens, so a weight row is decoded nTok / kTile times) and y = x W
// (shaders/matmul-transposed.comp). Reference: ops::matmul, CpuBackend::matmulTransposed.
#include "backends/vulkan/vulkan-backend.h"

#include "matmul-transposed.spv.h"
#include "matmul.spv.h"

namespace moe::vulkan {
namespace {

// Tokens per matmul workgroup: 1 for decode (no idle accumulators), 4 past it.
uint32_t tokenTile(int nTok) {
    return nTok == 1 ? 1u : 4u;
}

struct MatmulPush {
    uint32_t xOff, wOff, yOff, nTok, rows, cols, rowBytes, nChunks;
};

} // namespace

void VulkanBackend::matmul(const float* x, int nTok, const ops::WeightView& w, float* y) {
    KernelWeight type;
    uint32_t nChunks = 0;
    Bound b;
    if (nTok <= 0 || w.rows <= 0 || !kernelWeight("matmul", w, type, nChunks) ||
        !fits("matmul", "activation elements", uint64_t(nTok) * uint64_t(std::max(w.cols, w.rows)),
              UINT32_MAX) ||
        !fits("matmul", "weight bytes", uint64_t(w.rows) * w.rowBytes(), UINT32_MAX) ||
        !bind("matmul", {{x, 4}, {w.data, 1}, {y, 4}}, b))
        return;
    const uint32_t tile = tokenTile(nTok);
    const MatmulPush push{
        b.offset(0),      b.offset(1, 1),         b.offset(2), uint32_t(nTok), uint32_t(w.rows),
        uint32_t(w.cols), uint32_t(w.rowBytes()), nChunks};
    const auto [gx, gy] = grid(uint64_t(w.rows));
    run("matmul", kSpv_matmul, {uint32_t(type), tile}, b, push, gx, gy,
        (uint32_t(nTok) + tile - 1) / tile);
}

void VulkanBackend::matmulTransposed(const float* x, int nTok, const ops::WeightView& w, float* y) {
    KernelWeight type;
    uint32_t nChunks = 0;
    Bound b;
    if (nTok <= 0 || w.cols <= 0 || !kernelWeight("matmulTransposed", w, type, nChunks) ||
        !fits("matmulTransposed", "activation elements",
              uint64_t(nTok) * uint64_t(std::max(w.cols, w.rows)), UINT32_MAX) ||
        !fits("matmulTransposed", "weight bytes", uint64_t(w.rows) * w.rowBytes(), UINT32_MAX) ||
        !bind("matmulTransposed", {{x, 4}, {w.data, 1}, {y, 4}}, b))
        return;
    const MatmulPush push{
        b.offset(0),      b.offset(1, 1),         b.offset(2), uint32_t(nTok), uint32_t(w.rows),
        uint32_t(w.cols), uint32_t(w.rowBytes()), nChunks};
    const auto [gx, gy] = grid((nChunks + 63) / 64);
    run("matmul-transposed", kSpv_matmul_transposed, {uint32_t(type)}, b, push, gx, gy,
        uint32_t(nTok));
}

} // namespace moe::vulkan
