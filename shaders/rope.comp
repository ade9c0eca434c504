#version 450
#extension GL_GOOGLE_include_directive : require
// Rotary embedding in place (ops::ropeApply, engine/ops/rope.cpp): token t, head h, pair i <
// nRot / 2 of the values at x + t * rowStride + h * headStride + offset rotate by
// a = pos[t] * invFreq[i], cos and sin scaled by attentionFactor; pairs (2i, 2i+1) when
// interleaved, else (i, i + nRot/2). Launch: one invocation per (t, h, i), row-major.
// cos/sin: Cody-Waite reduction by pi/2 in three parts and minimax polynomials (cephes sinf/cosf),
// because the GLSL built-ins only promise 2^-11 absolute error, too coarse for logit parity.
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer PBuf { int pos[]; };
layout(std430, set = 0, binding = 2) readonly buffer FBuf { float invFreq[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint xOff, posOff, fOff, nTok, rowStride, nHead, headStride, offset, half_, interleaved;
    float attentionFactor;
} pc;

// sin and cos of a (|a| up to ~1e5 keeps the reduction exact to float precision).
void sinCos(float a, out float s, out float c) {
    const float j = floor(a * 0.63661977236758134 + 0.5); // nearest multiple of pi/2
    precise float r = a - j * 1.5703125;
    r = r - j * 4.837512969970703125e-4;
    r = r - j * 7.54978995489188216e-8;
    const float z = r * r;
    const float sr = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
    const float cr = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
    const int q = int(j - 4.0 * floor(j * 0.25)); // j mod 4
    if (q == 0) { s = sr; c = cr; }
    else if (q == 1) { s = cr; c = -sr; }
    else if (q == 2) { s = -sr; c = -cr; }
    else { s = -cr; c = sr; }
}

void main() {
    const uint e = groupIndex() * 256 + gl_LocalInvocationID.x;
    if (e >= pc.nTok * pc.nHead * pc.half_) return;
    const uint i = e % pc.half_, h = (e / pc.half_) % pc.nHead, t = e / (pc.half_ * pc.nHead);
    const float a = float(pos[pc.posOff + t]) * invFreq[pc.fOff + i];
    float s, c;
    sinCos(a, s, c);
    c *= pc.attentionFactor;
    s *= pc.attentionFactor;
    const uint base = pc.xOff + t * pc.rowStride + h * pc.headStride + pc.offset;
    const uint ia = pc.interleaved != 0u ? 2 * i : i;
    const uint ib = pc.interleaved != 0u ? 2 * i + 1 : i + pc.half_;
    const float x0 = x[base + ia], x1 = x[base + ib];
    x[base + ia] = x0 * c - x1 * s;
    x[base + ib] = x1 * c + x0 * s;
}
