#version 450
#extension GL_GOOGLE_include_directive : require
// Transposed matmul y = x W over a weight in any storage type: y[t, c] = Σ_r x[t, r] W[r, c]
// (DeepSeek's absorbed W_k_b of an HF kv_b_proj). Reference: CpuBackend::matmulTransposed.
// Launch: one invocation per (32-column chunk, token): chunks over groupIndex() * 64 + local id,
// token gl_WorkGroupID.z; each walks the rows, decoding its chunk of every row.
// Specialization: 0 weight type.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { uint wq[]; };
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

#include "common.glsl"
#include "dequant.glsl"

layout(push_constant) uniform Push {
    uint xOff, wOff, yOff;
    uint nTok, rows, cols, rowBytes, nChunks;
} pc;

void main() {
    const uint chunk = groupIndex() * 64 + gl_LocalInvocationID.x;
    const uint t = gl_WorkGroupID.z;
    if (chunk >= pc.nChunks || t >= pc.nTok) return;
    float acc[32];
    for (uint l = 0; l < 32; ++l) acc[l] = 0.0;
    float v[32];
    for (uint r = 0; r < pc.rows; ++r) {
        decodeChunk(pc.wOff + r * pc.rowBytes, chunk, pc.cols, v);
        const float c = x[pc.xOff + t * pc.rows + r];
        for (uint l = 0; l < 32; ++l) acc[l] += c * v[l];
    }
    const uint c0 = chunk * 32, n = min(32u, pc.cols - c0);
    for (uint l = 0; l < n; ++l) y[pc.yOff + t * pc.cols + c0 + l] = acc[l];
}
