#version 450
#extension GL_GOOGLE_include_directive : require
// Row copies: dst[dRow(i) * dStride + c] = src[sRow(i) * sStride + c] for i < rows, c < cols, where
// sRow(i) = idx[i] when mode bit 0 is set (gatherRows), dRow(i) = idx[i] when bit 1 is set
// (scatterRows, the cache write), else i (copy2d). Reference: CpuBackend::copy2d, gatherRows,
// scatterRows. Launch: one invocation per element (row-major over rows x cols).
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) writeonly buffer DBuf { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float src[]; };
layout(std430, set = 0, binding = 2) readonly buffer IBuf { int idx[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint dOff, dStride, sOff, sStride, iOff, rows, cols, mode;
} pc;

void main() {
    const uint e = groupIndex() * 256 + gl_LocalInvocationID.x;
    if (e >= pc.rows * pc.cols) return;
    const uint i = e / pc.cols, c = e % pc.cols;
    const uint sRow = (pc.mode & 1u) != 0u ? uint(idx[pc.iOff + i]) : i;
    const uint dRow = (pc.mode & 2u) != 0u ? uint(idx[pc.iOff + i]) : i;
    dst[pc.dOff + dRow * pc.dStride + c] = src[pc.sOff + sRow * pc.sStride + c];
}
