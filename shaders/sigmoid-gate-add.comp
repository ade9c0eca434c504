#version 450
#extension GL_GOOGLE_include_directive : require
// out[t] += sigmoid(x[t] · g) * s[t] over rows of n (Qwen2-MoE's gated shared expert).
// Reference: CpuBackend::sigmoidGateAdd. Launch: one workgroup of 256 per token (groupIndex());
// a shared-memory tree reduces the dot product.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer OBuf { float o[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float s[]; };
layout(std430, set = 0, binding = 2) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 3) readonly buffer GBuf { float g[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint oOff, sOff, xOff, gOff, nTok, n;
} pc;

const uint kGroup = 256;
shared float partial[kGroup];

void main() {
    const uint t = groupIndex();
    if (t >= pc.nTok) return;
    const uint tid = gl_LocalInvocationID.x;
    float sum = 0.0;
    for (uint i = tid; i < pc.n; i += kGroup) sum += x[pc.xOff + t * pc.n + i] * g[pc.gOff + i];
    partial[tid] = sum;
    barrier();
    for (uint stride = kGroup / 2; stride > 0; stride /= 2) {
        if (tid < stride) partial[tid] += partial[tid + stride];
        barrier();
    }
    const float gate = 1.0 / (1.0 + exp(-partial[0]));
    for (uint i = tid; i < pc.n; i += kGroup) o[pc.oOff + t * pc.n + i] += gate * s[pc.sOff + t * pc.n + i];
}
