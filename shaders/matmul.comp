#version 450
#extension GL_GOOGLE_include_directive : require
// Matmul y = x Wᵀ over a weight in any storage type: y[t, r] = Σ_c x[t, c] W[r, c].
// Reference: engine/ops/matmul.cpp (ops::matmul). Host: engine/backends/vulkan/vulkan-matmul.cpp.
// Launch: one workgroup of kGroup invocations per (weight row r = groupIndex(), token tile
// gl_WorkGroupID.z of kTile tokens). Invocations stride over the row's 32-element chunks, decode
// each chunk once and dot it with the tile's kTile activation rows; a shared-memory tree then
// reduces the kGroup partial sums of each token. Specialization: 0 weight type, 1 kTile.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer WBuf { uint wq[]; };
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

#include "common.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint kTile = 4;
const uint kGroup = 64;

layout(push_constant) uniform Push {
    uint xOff, wOff, yOff; // x, y in floats; w in bytes
    uint nTok, rows, cols, rowBytes, nChunks;
} pc;

shared float partial[kGroup * kTile];

void main() {
    const uint r = groupIndex();
    if (r >= pc.rows) return; // uniform over the workgroup
    const uint tid = gl_LocalInvocationID.x;
    const uint t0 = gl_WorkGroupID.z * kTile;
    float acc[kTile];
    for (uint i = 0; i < kTile; ++i) acc[i] = 0.0;
    float v[32];
    const uint rowByte = pc.wOff + r * pc.rowBytes;
    for (uint chunk = tid; chunk < pc.nChunks; chunk += kGroup) {
        decodeChunk(rowByte, chunk, pc.cols, v);
        const uint c0 = chunk * 32, n = min(32u, pc.cols - c0);
        for (uint i = 0; i < kTile; ++i) {
            if (t0 + i >= pc.nTok) break;
            const uint xb = pc.xOff + (t0 + i) * pc.cols + c0;
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
    if (tid < kTile && t0 + tid < pc.nTok) y[pc.yOff + (t0 + tid) * pc.rows + r] = partial[tid * kGroup];
}
