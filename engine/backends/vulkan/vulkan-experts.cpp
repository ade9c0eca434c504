// The MoE block of the Vulkan backend: out[t] = Σ_j w[t, j] · down_e(silu(gate_e x[t]) ⊙ up_e
// x[t]). Tokens are grouped by expert on the device and every projection is one dispatch over all
// experts (reference: CpuBackend::moeExperts, which runs each expert over its tokens):
//   moe-group      slots sorted by expert: offsets, sorted slots, expert of each position, position
//   of each slot moe-matmul x2  G = gate_e · x[slot / k], U = up_e · x[slot / k] per sorted
//   position swiglu         G = silu(G) ⊙ U moe-matmul     D = down_e · G per sorted position
//   moe-combine    out[t] = Σ_j w[t, j] · D[position of slot (t, j)] (dropped slots, id -1,
//   skipped)
// The grouped matmul addresses expert e of a projection at a fixed stride from expert 0, so
// prepareExperts() stacks each projection's experts into one allocation when they are not already
// (GGUF's *_exps tensors are; per-expert HF tensors are copied on the device and their separate
// copies released). Scratch (kept by the backend, grown on demand): slot 0 the grouping ints,
// 1 G, 2 U, 3 D.
#include "backends/vulkan/vulkan-backend.h"

#include "moe-combine.spv.h"
#include "moe-group.spv.h"
#include "moe-matmul.spv.h"

#include <algorithm>

namespace moe::vulkan {
namespace {

size_t expertBytes(const ops::WeightView& w) {
    return w.rowBytes() * size_t(w.rows);
}

bool stacked(const std::vector<ops::WeightView>& v) {
    const auto* base = static_cast<const char*>(v[0].data);
    for (size_t e = 0; e < v.size(); ++e)
        if (static_cast<const char*>(v[e].data) != base + e * expertBytes(v[0])) return false;
    return true;
}

} // namespace

Status VulkanBackend::prepareExperts(ExpertSet& set) {
    for (std::vector<ops::WeightView>* proj : {&set.gate, &set.up, &set.down}) {
        std::vector<ops::WeightView>& v = *proj;
        if (v.empty()) continue;
        for (const ops::WeightView& w : v)
            if (w.type != v[0].type || w.ggmlType != v[0].ggmlType || w.rows != v[0].rows ||
                w.cols != v[0].cols)
                return Status(
                    StatusCode::Unsupported,
                    "vulkan prepareExperts: the experts of one projection differ in type or shape");
        if (stacked(v)) continue;
        const size_t stride = expertBytes(v[0]);
        MOE_ASSIGN_OR_RETURN(BackendMemory all, allocate(stride * v.size()));
        BufferRef dst;
        if (!m_heap->resolve(all.data(), dst))
            return Status(StatusCode::DeviceError,
                          "vulkan prepareExperts: a fresh allocation does not resolve");
        for (size_t e = 0; e < v.size(); ++e) {
            BufferRef src;
            if (!m_heap->resolve(v[e].data, src))
                return Status(StatusCode::InvalidArgument, "vulkan prepareExperts: expert " +
                                                               std::to_string(e) +
                                                               " is not resident on this backend");
            MOE_TRY(m_stream->copy(src.buffer, src.offset, dst.buffer, dst.offset + e * stride,
                                   stride));
            // The per-expert copy is no longer read once the stacked copy is made (in stream
            // order).
            auto it =
                std::find_if(m_resident.begin(), m_resident.end(), [&](const BackendMemory& m) {
                    return m.data() == v[e].data && m.bytes() == stride;
                });
            if (it != m_resident.end()) m_resident.erase(it);
            v[e].data = static_cast<const char*>(all.data()) + e * stride;
        }
        m_resident.push_back(std::move(all));
    }
    return Status::ok();
}

namespace {

struct MoeMatmulPush {
    uint32_t xOff, wOff, yOff, gOff;
    uint32_t nSlots, nExpert, k, rows, cols, rowBytes, nChunks, expertBytes;
};

} // namespace

void VulkanBackend::moeExperts(const float* x, int nTok, const int32_t* ids, const float* weights,
                               int k, const ExpertSet& ex, float* out) {
    if (nTok <= 0 || k <= 0 || ex.gate.empty() || failed()) return;
    const uint32_t nExp = uint32_t(ex.gate.size());
    const uint64_t nSlots = uint64_t(nTok) * uint64_t(k);
    const int64_t nEmbd = ex.gate[0].cols, nFf = ex.gate[0].rows;
    if (ex.up.size() != nExp || ex.down.size() != nExp || !stacked(ex.gate) || !stacked(ex.up) ||
        !stacked(ex.down)) {
        check(Status(
            StatusCode::InvalidArgument,
            "vulkan moeExperts: the expert set was not prepared (prepareExperts) on this backend"));
        return;
    }
    if (!fits("moeExperts", "slot elements", nSlots * uint64_t(std::max(nEmbd, nFf)), UINT32_MAX) ||
        !fits("moeExperts", "projection bytes", uint64_t(expertBytes(ex.down[0])) * nExp,
              UINT32_MAX) ||
        !fits("moeExperts", "projection bytes", uint64_t(expertBytes(ex.gate[0])) * nExp,
              UINT32_MAX))
        return;
    KernelWeight tGate, tUp, tDown;
    uint32_t cGate = 0, cUp = 0, cDown = 0;
    if (!kernelWeight("moeExperts", ex.gate[0], tGate, cGate) ||
        !kernelWeight("moeExperts", ex.up[0], tUp, cUp) ||
        !kernelWeight("moeExperts", ex.down[0], tDown, cDown))
        return;
    int32_t* g = static_cast<int32_t*>(scratch(0, (nExp + 1 + 3 * nSlots) * sizeof(int32_t)));
    float* gate = static_cast<float*>(scratch(1, nSlots * uint64_t(nFf) * sizeof(float)));
    float* up = static_cast<float*>(scratch(2, nSlots * uint64_t(nFf) * sizeof(float)));
    float* down = static_cast<float*>(scratch(3, nSlots * uint64_t(nEmbd) * sizeof(float)));
    if (failed()) return;

    Bound b;
    if (!bind("moe-group", {{ids, 4}, {g, 4}}, b)) return;
    struct {
        uint32_t idOff, gOff, nSlots, nExpert;
    } groupPush{b.offset(0), b.offset(1), uint32_t(nSlots), nExp};
    run("moe-group", kSpv_moe_group, {}, b, groupPush, 1);

    const uint32_t tile = nTok == 1 ? 1u : 4u;
    const uint32_t tiles = uint32_t((nSlots + tile - 1) / tile);
    auto project = [&](const float* in, const ops::WeightView& w0, KernelWeight type,
                       uint32_t nChunks, float* y, uint32_t gather) {
        Bound m;
        if (!bind("moe-matmul", {{in, 4}, {w0.data, 1}, {y, 4}, {g, 4}}, m)) return;
        const MoeMatmulPush push{m.offset(0),       m.offset(1, 1),
                                 m.offset(2),       m.offset(3),
                                 uint32_t(nSlots),  nExp,
                                 uint32_t(k),       uint32_t(w0.rows),
                                 uint32_t(w0.cols), uint32_t(w0.rowBytes()),
                                 nChunks,           uint32_t(expertBytes(w0))};
        const auto [gx, gy] = grid(uint64_t(w0.rows));
        run("moe-matmul", kSpv_moe_matmul, {uint32_t(type), tile, gather}, m, push, gx, gy, tiles);
    };
    project(x, ex.gate[0], tGate, cGate, gate, 1);
    project(x, ex.up[0], tUp, cUp, up, 1);
    swiglu(gate, up, gate, int64_t(nSlots) * nFf);
    project(gate, ex.down[0], tDown, cDown, down, 0);

    Bound c;
    if (!bind("moe-combine", {{down, 4}, {weights, 4}, {g, 4}, {out, 4}}, c)) return;
    struct {
        uint32_t dOff, wOff, gOff, oOff, nTok, k, nEmbd, nExpert, nSlots;
    } combinePush{c.offset(0), c.offset(1),     c.offset(2), c.offset(3),     uint32_t(nTok),
                  uint32_t(k), uint32_t(nEmbd), nExp,        uint32_t(nSlots)};
    const auto [gx, gy] = grid((uint64_t(nTok) * uint64_t(nEmbd) + 255) / 256);
    run("moe-combine", kSpv_moe_combine, {}, c, combinePush, gx, gy);
}

} // namespace moe::vulkan
