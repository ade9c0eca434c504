#version 450
#extension GL_GOOGLE_include_directive : require
// Grouped expert matmul (one dispatch per projection for every expert of a MoE layer): for each
// sorted position p < routed (moe-group.comp), expert e = expertOf[p],
//   y[p, r] = Σ_c in[p, c] · W_e[r, c],  W_e at byte wOff + e * expertBytes,
// where in[p] = x[sorted[p] / k] (kGatherTokens = 1: gate and up read the token rows) or
// x[p] (kGatherTokens = 0: down reads the grouped hidden rows). Reference: CpuBackend::moeExperts
// (cpu::matmul per expert over its tokens).
// Launch: one workgroup of kGroup per (row r = groupIndex(), tile gl_WorkGroupID.z of kTile
// sorted positions, sized for the worst case nSlots; tiles past `routed` exit). Positions are
// grouped by expert, so a tile mostly shares one expert: a chunk is decoded once and re-decoded
// only where the expert changes inside the tile. Specialization: 0 weight type, 1 kTile,
// 2 kGatherTokens.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { uint wq[]; };
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };
layout(std430, set = 0, binding = 3) readonly buffer GBuf { int g[]; };

#include "common.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint kTile = 4;
layout(constant_id = 2) const uint kGatherTokens = 1;
const uint kGroup = 64;

layout(push_constant) uniform Push {
    uint xOff, wOff, yOff, gOff;
    uint nSlots, nExpert, k, rows, cols, rowBytes, nChunks, expertBytes;
} pc;

shared float partial[kGroup * kTile];

void main() {
    const uint r = groupIndex();
    if (r >= pc.rows) return;
    const uint offsets = pc.gOff, sorted = offsets + pc.nExpert + 1, expertOf = sorted + pc.nSlots;
    const uint routed = uint(g[offsets + pc.nExpert]);
    const uint p0 = gl_WorkGroupID.z * kTile;
    if (p0 >= routed) return;
    const uint tid = gl_LocalInvocationID.x;
    float acc[kTile];
    uint xRow[kTile];
    int expert[kTile];
    for (uint i = 0; i < kTile; ++i) {
        acc[i] = 0.0;
        const bool valid = p0 + i < routed;
        expert[i] = valid ? g[expertOf + p0 + i] : -1;
        xRow[i] = valid ? (kGatherTokens != 0u ? uint(g[sorted + p0 + i]) / pc.k : p0 + i) : 0u;
    }
    float v[32];
    for (uint chunk = tid; chunk < pc.nChunks; chunk += kGroup) {
        int decoded = -1;
        const uint c0 = chunk * 32, n = min(32u, pc.cols - c0);
        for (uint i = 0; i < kTile; ++i) {
            if (expert[i] < 0) break;
            if (expert[i] != decoded) {
                decoded = expert[i];
                decodeChunk(pc.wOff + uint(decoded) * pc.expertBytes + r * pc.rowBytes, chunk, pc.cols, v);
            }
            const uint xb = pc.xOff + xRow[i] * pc.cols + c0;
            float s = 0.0;
            for (uint l = 0; l < n; ++l) s += v[l] * x[xb + l];
            acc[i] += s;
        }
    }
    for (uint i = 0; i < kTile; ++i) partial[i * kGroup + tid] = acc[i];
    barrier();
    for (uint stride = kGroup / 2; stride > 0; stride /= 2) {
        if (tid < stride)
            for (uint i = 0; i < kTile; ++i) partial[i * kGroup + tid] += partial[i * kGroup + tid + stride];
        barrier();
    }
    if (tid < kTile && p0 + tid < routed) y[pc.yOff + (p0 + tid) * pc.rows + r] = partial[tid * kGroup];
}
