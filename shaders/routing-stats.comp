#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_ARB_gpu_shader_int64 : require
// Routing statistics of a layer: counts[e] += #slots routed to e, sums[e] += their weights, in
// int64 and double (CpuBackend::accumulateRouting; the same slot order, so the same double sums).
// Launch: one invocation per expert (groupIndex() * 64 + local id); each walks all slots.
// Needs shaderInt64 and shaderFloat64 (the host falls back when the device lacks them).
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer IBuf { int ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float weights[]; };
layout(std430, set = 0, binding = 2) buffer CBuf { int64_t counts[]; };
layout(std430, set = 0, binding = 3) buffer SBuf { double sums[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint idOff, wOff, cOff, sOff, nSlots, nExpert; // cOff, sOff in 8-byte elements
} pc;

void main() {
    const uint e = groupIndex() * 64 + gl_LocalInvocationID.x;
    if (e >= pc.nExpert) return;
    int64_t count = counts[pc.cOff + e];
    double sum = sums[pc.sOff + e];
    for (uint s = 0; s < pc.nSlots; ++s) {
        if (ids[pc.idOff + s] == int(e)) {
            count += 1;
            sum += double(weights[pc.wOff + s]);
        }
    }
    counts[pc.cOff + e] = count;
    sums[pc.sOff + e] = sum;
}
