#version 450
#extension GL_GOOGLE_include_directive : require
// y[i] += x[i % n] for i < total: add (n = total) and the per-row bias add (addRows: n = the row
// width). Reference: CpuBackend::add / addRows. Launch: one invocation per element,
// groupIndex() * 256 + local id.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer YBuf { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer XBuf { float x[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint yOff, xOff, total, n;
} pc;

void main() {
    const uint i = groupIndex() * 256 + gl_LocalInvocationID.x;
    if (i >= pc.total) return;
    y[pc.yOff + i] += x[pc.xOff + i % pc.n];
}
