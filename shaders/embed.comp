#version 450
#extension GL_GOOGLE_include_directive : require
// Embedding lookup: out[t] = table[ids[t]] as float32, the table in any storage type.
// Reference: CpuBackend::embed (WeightView::rowToF32). Launch: one invocation per (32-element
// chunk, token): chunks over groupIndex() * 64 + local id, token gl_WorkGroupID.z.
// Specialization: 0 weight type.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer WBuf { uint wq[]; };
layout(std430, set = 0, binding = 1) readonly buffer IdBuf { int ids[]; };
layout(std430, set = 0, binding = 2) writeonly buffer OutBuf { float outv[]; };

#include "common.glsl"
#include "dequant.glsl"

layout(push_constant) uniform Push {
    uint wOff, idOff, outOff;
    uint n, cols, rowBytes, nChunks;
} pc;

void main() {
    const uint chunk = groupIndex() * 64 + gl_LocalInvocationID.x;
    const uint t = gl_WorkGroupID.z;
    if (chunk >= pc.nChunks || t >= pc.n) return;
    float v[32];
    decodeChunk(pc.wOff + uint(ids[pc.idOff + t]) * pc.rowBytes, chunk, pc.cols, v);
    const uint c0 = chunk * 32, n = min(32u, pc.cols - c0);
    for (uint l = 0; l < n; ++l) outv[pc.outOff + t * pc.cols + c0 + l] = v[l];
}
