#version 450
#extension GL_GOOGLE_include_directive : require
// Last stage of moeExperts: out[t, i] = Σ_j weights[t * k + j] · d[posOf[t * k + j], i] over the
// slots that were routed (posOf >= 0; moe-group.comp), d = the down projections in sorted order.
// Reference: CpuBackend::moeExperts. Launch: one invocation per (t, i), row-major.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer DBuf { float d[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float weights[]; };
layout(std430, set = 0, binding = 2) readonly buffer GBuf { int g[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf { float o[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint dOff, wOff, gOff, oOff, nTok, k, nEmbd, nExpert, nSlots;
} pc;

void main() {
    const uint e = groupIndex() * 256 + gl_LocalInvocationID.x;
    if (e >= pc.nTok * pc.nEmbd) return;
    const uint t = e / pc.nEmbd, i = e % pc.nEmbd;
    const uint posOf = pc.gOff + pc.nExpert + 1 + 2 * pc.nSlots; // after offsets, sorted, expertOf
    float acc = 0.0;
    for (uint j = 0; j < pc.k; ++j) {
        const int p = g[posOf + t * pc.k + j];
        if (p >= 0) acc += weights[pc.wOff + t * pc.k + j] * d[pc.dOff + uint(p) * pc.nEmbd + i];
    }
    o[pc.oOff + e] = acc;
}
