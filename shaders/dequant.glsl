// Weight rows in their storage type, decoded 32 elements (a "chunk") at a time: F32, F16, BF16
// and the ggml blocks Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (byte layouts:
// engine/ops/quants/quant-blocks.h; formulas: engine/ops/quants/dequant-legacy.cpp, dequant-k.cpp,
// which these follow element for element). A chunk is one 32-element block of the legacy types,
// one 32-element sub-block of a 256-element K-quant super-block, or 32 consecutive values of a
// float row (the tail past `cols` reads as 0).
//
// The includer declares `wq` (uint words of the weight chunk) and may override kType through
// specialization constant 0 (kWeight* below; the host maps ggml type ids to these).
// Bytes are read out of 32-bit words so no 8/16-bit storage feature is needed; every fp16
// field of a block is 2-byte aligned, so it never straddles a word.
#ifndef MOE_DEQUANT_GLSL
#define MOE_DEQUANT_GLSL

const uint kWeightF32 = 0, kWeightF16 = 1, kWeightBF16 = 2, kWeightQ4_0 = 3, kWeightQ4_1 = 4, kWeightQ5_0 = 5,
           kWeightQ5_1 = 6, kWeightQ8_0 = 7, kWeightQ2_K = 8, kWeightQ3_K = 9, kWeightQ4_K = 10, kWeightQ5_K = 11,
           kWeightQ6_K = 12;

layout(constant_id = 0) const uint kType = 0;

uint rdByte(uint b) {
    return (wq[b >> 2] >> ((b & 3u) * 8u)) & 0xFFu;
}
uint rdU16(uint b) {
    return (wq[b >> 2] >> ((b & 2u) * 8u)) & 0xFFFFu;
}
float rdF16(uint b) {
    return unpackHalf2x16(rdU16(b)).x;
}
int rdI8(uint b) {
    return int(rdByte(b) << 24) >> 24;
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block whose 12 scale bytes start at s.
void scaleMinK4(uint j, uint s, out float sc, out float mn) {
    if (j < 4) {
        sc = float(rdByte(s + j) & 63u);
        mn = float(rdByte(s + j + 4) & 63u);
    } else {
        sc = float((rdByte(s + j + 4) & 0xFu) | ((rdByte(s + j - 4) >> 6) << 4));
        mn = float((rdByte(s + j + 4) >> 4) | ((rdByte(s + j) >> 6) << 4));
    }
}

// v[l] = element 32 * chunk + l of the row starting at byte rowByte.
void decodeChunk(uint rowByte, uint chunk, uint cols, out float v[32]) {
    if (kType == kWeightF32) {
        const uint base = rowByte / 4 + chunk * 32;
        for (uint l = 0; l < 32; ++l) v[l] = chunk * 32 + l < cols ? uintBitsToFloat(wq[base + l]) : 0.0;
    } else if (kType == kWeightF16 || kType == kWeightBF16) {
        for (uint l = 0; l < 32; ++l) {
            const uint c = chunk * 32 + l;
            const uint bits = c < cols ? rdU16(rowByte + 2 * c) : 0u;
            v[l] = kType == kWeightF16 ? unpackHalf2x16(bits).x : uintBitsToFloat(bits << 16);
        }
    } else if (kType == kWeightQ4_0) {
        const uint b = rowByte + chunk * 18;
        const float d = rdF16(b);
        for (uint j = 0; j < 16; ++j) {
            const uint q = rdByte(b + 2 + j);
            v[j] = d * float(int(q & 0xFu) - 8);
            v[j + 16] = d * float(int(q >> 4) - 8);
        }
    } else if (kType == kWeightQ4_1) {
        const uint b = rowByte + chunk * 20;
        const float d = rdF16(b), m = rdF16(b + 2);
        for (uint j = 0; j < 16; ++j) {
            const uint q = rdByte(b + 4 + j);
            v[j] = d * float(q & 0xFu) + m;
            v[j + 16] = d * float(q >> 4) + m;
        }
    } else if (kType == kWeightQ5_0) {
        const uint b = rowByte + chunk * 22;
        const float d = rdF16(b);
        const uint h = rdU16(b + 2) | (rdU16(b + 4) << 16);
        for (uint j = 0; j < 16; ++j) {
            const uint q = rdByte(b + 6 + j);
            v[j] = d * float(int((q & 0xFu) | (((h >> j) & 1u) << 4)) - 16);
            v[j + 16] = d * float(int((q >> 4) | (((h >> (j + 16)) & 1u) << 4)) - 16);
        }
    } else if (kType == kWeightQ5_1) {
        const uint b = rowByte + chunk * 24;
        const float d = rdF16(b), m = rdF16(b + 2);
        const uint h = rdU16(b + 4) | (rdU16(b + 6) << 16);
        for (uint j = 0; j < 16; ++j) {
            const uint q = rdByte(b + 8 + j);
            v[j] = d * float((q & 0xFu) | (((h >> j) & 1u) << 4)) + m;
            v[j + 16] = d * float((q >> 4) | (((h >> (j + 16)) & 1u) << 4)) + m;
        }
    } else if (kType == kWeightQ8_0) {
        const uint b = rowByte + chunk * 34;
        const float d = rdF16(b);
        for (uint l = 0; l < 32; ++l) v[l] = d * float(rdI8(b + 2 + l));
    } else if (kType == kWeightQ2_K) {
        const uint b = rowByte + (chunk / 8) * 84, h = (chunk % 8) / 4, j = chunk % 4;
        const float d = rdF16(b + 80), dmin = rdF16(b + 82);
        for (uint l = 0; l < 32; ++l) {
            const uint sc = rdByte(b + 8 * h + 2 * j + l / 16);
            const uint q = (rdByte(b + 16 + 32 * h + l) >> (2 * j)) & 3u;
            v[l] = d * float(sc & 0xFu) * float(q) - dmin * float(sc >> 4);
        }
    } else if (kType == kWeightQ3_K) {
        const uint b = rowByte + (chunk / 8) * 110, h = (chunk % 8) / 4, j = chunk % 4;
        const float d = rdF16(b + 108);
        for (uint l = 0; l < 32; ++l) {
            const uint s = 8 * h + 2 * j + l / 16;
            const uint lo = s < 8 ? (rdByte(b + 96 + s) & 0xFu) : (rdByte(b + 96 + s - 8) >> 4);
            const uint hi = (rdByte(b + 96 + 8 + s % 4) >> (2 * (s / 4))) & 3u;
            const int scale = int(lo | (hi << 4)) - 32;
            const int q = int((rdByte(b + 32 + 32 * h + l) >> (2 * j)) & 3u);
            const bool high = ((rdByte(b + l) >> (4 * h + j)) & 1u) != 0u;
            v[l] = d * float(scale) * float(q - (high ? 0 : 4));
        }
    } else if (kType == kWeightQ4_K || kType == kWeightQ5_K) {
        const uint bytes = kType == kWeightQ4_K ? 144 : 176;
        const uint b = rowByte + (chunk / 8) * bytes, sub = chunk % 8;
        const float d = rdF16(b), dmin = rdF16(b + 2);
        float sc, mn;
        scaleMinK4(sub, b + 4, sc, mn);
        const float ds = d * sc, ms = dmin * mn;
        const uint qs = b + (kType == kWeightQ4_K ? 16 : 48) + 32 * (sub / 2), shift = 4 * (sub % 2);
        for (uint l = 0; l < 32; ++l) {
            uint q = (rdByte(qs + l) >> shift) & 0xFu;
            if (kType == kWeightQ5_K) q |= ((rdByte(b + 16 + l) >> sub) & 1u) << 4;
            v[l] = ds * float(q) - ms;
        }
    } else if (kType == kWeightQ6_K) {
        const uint b = rowByte + (chunk / 8) * 210, h = (chunk % 8) / 4, k = chunk % 4;
        const float d = rdF16(b + 208);
        for (uint l = 0; l < 32; ++l) {
            const uint lowByte = rdByte(b + 64 * h + 32 * (k % 2) + l);
            const uint lo = (k < 2 ? lowByte : lowByte >> 4) & 0xFu;
            const uint hi = (rdByte(b + 128 + 32 * h + l) >> (2 * k)) & 3u;
            const int q = int(lo | (hi << 4)) - 32;
            v[l] = d * float(rdI8(b + 192 + 8 * h + 2 * k + l / 16)) * float(q);
        }
    }
}

#endif
