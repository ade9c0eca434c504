#version 450
#extension GL_GOOGLE_include_directive : require
// Causal attention over paged cache rows (ops::attention, engine/ops/attention.cpp): query t of
// head h (KV head h / (nHead / nHeadKv)) at position pos[t] attends to its sequence's rows
// first..pos[t] (first = pos[t] - window + 1 when window > 0, else 0); row j of sequence s is
// physical row tables[s * tableStride + j / pageSize] * pageSize + j % pageSize.
// Launch: one workgroup of kGroup invocations per (t, h) = groupIndex() (t major). Keys go in
// tiles of kGroup: each invocation scores one key (dk-long dot with the query held in shared
// memory), then the tile joins a running softmax (max m, sum l; earlier accumulators rescaled by
// exp(m_old - m_new)) and each invocation accumulates the output dims d = tid + kGroup * i it owns.
// Limits (checked by the host): dk <= kMaxDk, dv <= kGroup * kDvPerThread.
layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer QBuf { float q[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf { float kc[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { float vc[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf { float o[]; };
layout(std430, set = 0, binding = 4) readonly buffer PBuf { int pos[]; };
layout(std430, set = 0, binding = 5) readonly buffer TBuf { int tables[]; };
layout(std430, set = 0, binding = 6) readonly buffer SBuf { int seqOf[]; };

#include "common.glsl"

layout(push_constant) uniform Push {
    uint qOff, kOff, vOff, oOff, posOff, tabOff, seqOff;
    uint nTok, nHead, nHeadKv, dk, dv, kStride, vStride, window, tableStride, pageSize;
    float scale;
} pc;

const uint kGroup = 128;
const uint kDvPerThread = 8;
const uint kMaxDk = 1024;

shared float qs[kMaxDk];
shared float p[kGroup];
shared uint rowOf[kGroup];
shared float tileMax;

void main() {
    const uint job = groupIndex();
    if (job >= pc.nTok * pc.nHead) return;
    const uint t = job / pc.nHead, h = job % pc.nHead;
    const uint kvh = h / (pc.nHead / pc.nHeadKv);
    const uint tid = gl_LocalInvocationID.x;
    const int last = pos[pc.posOff + t];
    const int first = pc.window > 0 ? max(0, last - int(pc.window) + 1) : 0;
    const uint seq = uint(seqOf[pc.seqOff + t]);
    for (uint d = tid; d < pc.dk; d += kGroup) qs[d] = q[pc.qOff + (t * pc.nHead + h) * pc.dk + d];
    barrier();

    float acc[kDvPerThread];
    for (uint i = 0; i < kDvPerThread; ++i) acc[i] = 0.0;
    float m = uintBitsToFloat(0xff800000u), l = 0.0; // identical in every invocation
    for (int j0 = first; j0 <= last; j0 += int(kGroup)) {
        const int j = j0 + int(tid);
        float s = uintBitsToFloat(0xff800000u);
        if (j <= last) {
            const uint jj = uint(j);
            const uint row = uint(tables[pc.tabOff + seq * pc.tableStride + jj / pc.pageSize]) * pc.pageSize + jj % pc.pageSize;
            rowOf[tid] = row;
            const uint kb = pc.kOff + row * pc.kStride + kvh * pc.dk;
            s = 0.0;
            for (uint d = 0; d < pc.dk; ++d) s += qs[d] * kc[kb + d];
            s *= pc.scale;
        }
        p[tid] = s;
        barrier();
        if (tid == 0) {
            float mx = p[0];
            for (uint i = 1; i < kGroup; ++i) mx = max(mx, p[i]);
            tileMax = mx;
        }
        barrier();
        const float mNew = max(m, tileMax);
        const float corr = exp(m - mNew); // 0 on the first tile (m = -inf)
        barrier();
        p[tid] = j <= last ? exp(s - mNew) : 0.0;
        barrier();
        const uint nKeys = uint(min(int(kGroup), last - j0 + 1));
        float tileSum = 0.0;
        for (uint i = 0; i < nKeys; ++i) tileSum += p[i];
        l = l * corr + tileSum;
        for (uint k = 0; k < kDvPerThread; ++k) {
            const uint d = tid + k * kGroup;
            if (d >= pc.dv) break;
            float a = acc[k] * corr;
            for (uint i = 0; i < nKeys; ++i) a += p[i] * vc[pc.vOff + rowOf[i] * pc.vStride + kvh * pc.dv + d];
            acc[k] = a;
        }
        m = mNew;
        barrier(); // p and rowOf are rewritten by the next tile
    }
    const float inv = 1.0 / l;
    for (uint k = 0; k < kDvPerThread; ++k) {
        const uint d = tid + k * kGroup;
        if (d >= pc.dv) break;
        o[pc.oOff + (t * pc.nHead + h) * pc.dv + d] = acc[k] * inv;
    }
}
