// Row-dot kernels of the CPU backend's mat-vec (decode) path: one weight row in its storage type
// against one activation row, the way ggml's vec_dot does it. Float weights (F32, F16, BF16) dot a
// float32 activation; quantized weights dot an activation quantized once per call to 8-bit blocks
// (ActQ8_0 for the 32-element legacy types, ActQ8_K for the 256-element K-quants), so the inner
// loop is an integer multiply-add of int8/uint8 lanes and one float scale per block.
//
// Two implementations of the same table: portable scalar code (cpu-dot-scalar.cpp) and
// AVX2+FMA+F16C (cpu-dot-avx2.cpp, compiled with those flags and called only when the CPU reports
// them). The activation quantizers are shared by both, so the two tables see identical int8 inputs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moe::cpu {

// A block of 32 activations quantized to int8 with a float32 scale: x ~= d * qs, qs in [-127, 127].
// (ggml's block_q8_0 keeps d in fp16; float here costs 2 bytes a block and no precision.)
struct ActQ8_0 {
    float d;
    int8_t qs[32];
};

// A block of 256 activations for the K-quants: x ~= d * qs, qs in [-127, 127]; bsums[j] is the sum
// of qs[16j .. 16j+15], which turns a block's min term into 16 multiplies (ggml's block_q8_K).
struct ActQ8_K {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
};

// Symmetric round-to-nearest: d = max|x| / 127 per block. n: whole blocks (32 / 256).
void quantizeActQ8_0(const float* x, ActQ8_0* y, int64_t n);
void quantizeActQ8_K(const float* x, ActQ8_K* y, int64_t n);

// One weight row w (k elements in its storage layout) dot one prepared activation row a.
using DotFn = float (*)(const void* w, const void* a, int64_t k);

// The kernels of one ISA. A null entry means "not available for this type": the caller
// dequantizes the row to float32 and uses dotF32.
struct DotKernels {
    const char* isa; // "scalar", "avx2"
    DotFn dotF32;    // w: float,    a: float
    DotFn dotF16;    // w: fp16,     a: float
    DotFn dotBF16;   // w: bf16,     a: float
    DotFn dotQ8_0;   // w: BlockQ8_0, a: ActQ8_0
    DotFn dotQ4_0;   // w: BlockQ4_0, a: ActQ8_0
    DotFn dotQ5_0;   // w: BlockQ5_0, a: ActQ8_0
    DotFn dotQ4_K;   // w: BlockQ4_K, a: ActQ8_K
    DotFn dotQ5_K;   // w: BlockQ5_K, a: ActQ8_K
    DotFn dotQ6_K;   // w: BlockQ6_K, a: ActQ8_K    // n fp16 values to float32 (the sgemm path's
                     // panels of F16 weights; exact either way).
    void (*f16ToF32Row)(const uint16_t* src, float* dst, int64_t n);
};

const DotKernels& scalarDotKernels();
// The AVX2 table; call only when the CPU supports avx2, fma and f16c (cpu-matmul.cpp checks).
const DotKernels& avx2DotKernels();

} // namespace moe::cpu
