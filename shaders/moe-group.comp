#version 450
#extension GL_GOOGLE_include_directive : require
// Groups a MoE layer's routed slots by expert on the device (first stage of moeExperts; see
// engine/backends/vulkan/vulkan-experts.cpp). Slots s = t * k + j with ids[s] = e in [0, nExpert)
// get consecutive sorted positions per expert, experts in order, slots ascending within one:
//   offsets[e] .. offsets[e + 1]: the positions of expert e (offsets[nExpert] = routed slots)
//   sorted[p] = slot, expertOf[p] = e, posOf[s] = p (-1 for a dropped slot, id -1)
// Layout of the int scratch g: offsets [nExpert + 1] | sorted [nSlots] | expertOf [nSlots] |
// posOf [nSlots]. Launch: one workgroup of 256; invocation e handles experts e, e + 256, ...
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer IBuf { int ids[]; };
layout(std430, set = 0, binding = 1) buffer GBuf { int g[]; };

layout(push_constant) uniform Push {
    uint idOff, gOff, nSlots, nExpert;
} pc;

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint offsets = pc.gOff, sorted = offsets + pc.nExpert + 1, expertOf = sorted + pc.nSlots,
               posOf = expertOf + pc.nSlots;
    for (uint e = tid; e < pc.nExpert; e += 256) {
        int count = 0;
        for (uint s = 0; s < pc.nSlots; ++s)
            if (ids[pc.idOff + s] == int(e)) ++count;
        g[offsets + e + 1] = count;
    }
    for (uint s = tid; s < pc.nSlots; s += 256) g[posOf + s] = -1;
    memoryBarrierBuffer();
    barrier();
    if (tid == 0) {
        g[offsets] = 0;
        for (uint e = 0; e < pc.nExpert; ++e) g[offsets + e + 1] += g[offsets + e];
    }
    memoryBarrierBuffer();
    barrier();
    for (uint e = tid; e < pc.nExpert; e += 256) {
        int p = g[offsets + e];
        for (uint s = 0; s < pc.nSlots; ++s) {
            if (ids[pc.idOff + s] != int(e)) continue;
            g[sorted + p] = int(s);
            g[expertOf + p] = int(e);
            g[posOf + s] = p;
            ++p;
        }
    }
}
