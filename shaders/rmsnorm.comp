#version 450
#extension GL_GOOGLE_include_directive : require
// RMSNorm over strided rows: y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, rows of n values at
// x + r * xStride and y + r * yStride (in place allowed). Reference: engine/ops/rmsnorm.cpp.
// Launch: one workgroup of 256 invocations per row (groupIndex()); invocations stride over the
// row, a shared-memory tree reduces the partial sums of squares.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 2) buffer YBuf { float y[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint xOff, xStride, wOff, yOff, yStride, rows, n;
    float eps;
} pc;

const uint kGroup = 256;
shared float partial[kGroup];

void main() {
    const uint row = groupIndex();
    if (row >= pc.rows) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint xb = pc.xOff + row * pc.xStride, yb = pc.yOff + row * pc.yStride;
    float sum = 0.0;
    for (uint i = tid; i < pc.n; i += kGroup) sum += x[xb + i] * x[xb + i];
    partial[tid] = sum;
    barrier();
    for (uint stride = kGroup / 2; stride > 0; stride /= 2) {
        if (tid < stride) partial[tid] += partial[tid + stride];
        barrier();
    }
    const float scale = 1.0 / sqrt(partial[0] / float(pc.n) + pc.eps);
    // Each invocation reads x[i] before writing y[i] for its own i only: in place is safe.
    for (uint i = tid; i < pc.n; i += kGroup) y[yb + i] = x[xb + i] * scale * w[pc.wOff + i];
}
