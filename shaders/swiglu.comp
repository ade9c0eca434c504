#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + exp(-z)) (in place allowed).
// Reference: engine/ops/swiglu.cpp. Launch: one invocation per element.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer GBuf { float g[]; };
layout(std430, set = 0, binding = 1) readonly buffer UBuf { float u[]; };
layout(std430, set = 0, binding = 2) buffer OBuf { float o[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint gOff, uOff, oOff, n;
} pc;

void main() {
    const uint i = groupIndex() * 256 + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    const float z = g[pc.gOff + i];
    o[pc.oOff + i] = z / (1.0 + exp(-z)) * u[pc.uOff + i];
}
