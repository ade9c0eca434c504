// Scale searches shared by the K-quant quantizers, following ggml's reference quantizer
// (ggml-quants.c make_qx_quants, make_qkx2_quants, make_q3_quants): start from the max-based scale,
// then try nearby scales (and, for the affine form, the least-squares min) and keep the one with
// the smallest weighted error. Each returns the scale and writes the levels L.
#pragma once

#include <cmath>
#include <cstdint>

namespace moe::quants {

// Round half to even, like ggml's nearest_int (the default FP rounding mode).
inline int nearestInt(float x) { return int(std::nearbyint(x)); }

// Symmetric: x ≈ scale * (L - nmax), L in [0, 2*nmax). Weights qw (nullptr: x^2). Returns the
// scale (negative when the largest-magnitude value is positive, as ggml does).
float makeQx(int n, int nmax, const float* x, int8_t* L, const float* qw);

// Symmetric 3-bit search of Q3_K with coordinate-descent refinement; L in [0, 2*nmax).
float makeQ3(int n, int nmax, const float* x, int8_t* L);

// Affine: x ≈ scale * L - theMin, L in [0, nmax], theMin >= 0. Tries nstep+1 inverse scales
// (nmax + rmin + rdelta*is) / (max - min) with least-squares (scale, min); weighted L1 (useMad)
// or L2 error. Laux: n bytes of scratch.
float makeQkx2(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin,
               uint8_t* Laux, float rmin, float rdelta, int nstep, bool useMad);

} // namespace moe::quants
