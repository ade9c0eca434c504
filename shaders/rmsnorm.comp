#version 450
// RMSNorm, f32: y[r, i] = x[r, i] / sqrt(mean_i(x[r, :]^2) + eps) * w[i].
// Reference: engine/ops/rmsnorm.cpp. Host side: engine/backends/vulkan/vulkan-rmsnorm.cpp.
// Launch: groupsX = min(nRows, maxComputeWorkGroupCount[0]) workgroups of 256 invocations;
// workgroup g handles rows g, g + groupsX, ...; the invocations stride over the row, then a
// shared-memory tree reduces the 256 partial sums. Indices are 32-bit: nRows * n < 2^32.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push {
    uint nRows;
    uint n;
    float eps;
} pc;

const uint kGroupSize = 256;
shared float partial[kGroupSize];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    // The row loop is uniform across the workgroup, so every barrier() is reached by all.
    for (uint row = gl_WorkGroupID.x; row < pc.nRows; row += gl_NumWorkGroups.x) {
        const uint base = row * pc.n;
        float sum = 0.0;
        for (uint i = tid; i < pc.n; i += kGroupSize) {
            const float v = x[base + i];
            sum += v * v;
        }
        partial[tid] = sum;
        barrier();
        for (uint stride = kGroupSize / 2; stride > 0; stride /= 2) {
            if (tid < stride) partial[tid] += partial[tid + stride];
            barrier();
        }
        const float scale = 1.0 / sqrt(partial[0] / float(pc.n) + pc.eps);
        for (uint i = tid; i < pc.n; i += kGroupSize) y[base + i] = x[base + i] * scale * w[i];
        barrier(); // partial[0] is read above before the next row overwrites it
    }
}
