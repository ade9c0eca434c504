// cpu::matmul (cpu-matmul.h): path choice, activation preparation, row split over the ThreadPool,
// run-time ISA choice and the OpenBLAS prefill path. The kernels themselves are in cpu-dot-*.cpp.
//
// Decode path: the activation rows are prepared once on the calling thread (quantized to ActQ8_0 /
// ActQ8_K for quantized weights, used as they are for float weights), then each worker takes a
// contiguous range of weight rows and dots them, a block of ~16 KiB of rows at a time, with every
// token, so a weight row is read from memory once per call and stays in L1 across the tokens.
// Quantized types without a kernel (Q4_1, Q5_1, Q2_K, Q3_K) are dequantized a row block at a time
// into a per-thread float buffer and dotted as float rows.
//
// Prefill path: per worker, panels of at most kPanelFloats dequantized weights (and at least 16
// rows) go through cblas_sgemm(x, panel^T) into the panel's columns of y (ldc = W.rows); F32
// weights skip the panel, F16 panels are converted by the ISA's converter (F16C). Per-thread
// scratch is therefore max(kPanelFloats, 16 * cols) floats.
#include "backends/cpu/cpu-matmul.h"

#include "backends/cpu/cpu-dot.h"
#include "core/dtypes.h"
#include "core/thread-pool.h"
#include "ops/quants/quants.h"

#include <cblas.h>
#if defined(MOE_CPU_X86)
#include <cpuid.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace moe::cpu {

namespace {

// Token counts from which sgemm beats the row dots, measured on the 2-core EPYC of docs/perf/cpu.md
// (1024x2048 weights): about 16-24 tokens for the int8 kernels (Q8_0 ~12-16, Q4_K ~20-24), about
// 4-8 for float rows, which the dot path reads at float width and sgemm reuses from cache.
constexpr int kGemmMinTokensInt8 = 16;
constexpr int kGemmMinTokensFloat = 8;
// 1 MiB of float32 per thread for the dequantized panel of the prefill path.
constexpr int64_t kPanelFloats = int64_t(1) << 18;
constexpr int64_t kMinPanelRows = 16;
// Weight bytes per row block of the decode path (half of a 32 KiB L1 data cache).
constexpr size_t kRowBlockBytes = 16384;
// Below this many multiply-adds a matmul runs on the calling thread (ops::matmul's threshold).
constexpr int64_t kMinParallelWork = int64_t(1) << 15;

std::atomic<int> g_path{int(MatmulPath::Auto)};
std::atomic<bool> g_forceScalar{false};

#if defined(MOE_CPU_X86)
// F16C from CPUID leaf 1 (ECX bit 29): clang 14 has no "f16c" for __builtin_cpu_supports. The
// avx2 check already covers the OS saving the AVX state, which F16C uses too.
bool cpuHasF16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
}
#endif

const DotKernels& detectedKernels() {
    static const DotKernels* const kChosen = [] {
#if defined(MOE_CPU_X86)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuHasF16c())
            return &avx2DotKernels();
#endif
        return &scalarDotKernels();
    }();
    return *kChosen;
}

const DotKernels& kernels() {
    return g_forceScalar.load(std::memory_order_relaxed) ? scalarDotKernels() : detectedKernels();
}

enum class ActKind { Float, Q8_0, Q8_K };

// How rows of one weight type are dotted: a kernel and the activation it takes, or (fn null) a
// dequantized float row against the float activation.
struct RowPlan {
    DotFn fn = nullptr;
    ActKind act = ActKind::Float;
};

RowPlan planFor(const ops::WeightView& w, const DotKernels& k) {
    switch (w.type) {
    case ops::WeightType::F32:
        return {k.dotF32, ActKind::Float};
    case ops::WeightType::F16:
        return {k.dotF16, ActKind::Float};
    case ops::WeightType::BF16:
        return {k.dotBF16, ActKind::Float};
    case ops::WeightType::Quantized:
        break;
    }
    switch (GgmlType(w.ggmlType)) {
    case GgmlType::F32:
        return {k.dotF32, ActKind::Float};
    case GgmlType::Q8_0:
        return {k.dotQ8_0, ActKind::Q8_0};
    case GgmlType::Q4_0:
        return {k.dotQ4_0, ActKind::Q8_0};
    case GgmlType::Q5_0:
        return {k.dotQ5_0, ActKind::Q8_0};
    case GgmlType::Q4_K:
        return {k.dotQ4_K, ActKind::Q8_K};
    case GgmlType::Q5_K:
        return {k.dotQ5_K, ActKind::Q8_K};
    case GgmlType::Q6_K:
        return {k.dotQ6_K, ActKind::Q8_K};
    default:
        return {nullptr, ActKind::Float};
    }
}

// fn(r0, r1) over [0, rows), on the pool when the work is worth waking it.
template <typename Fn> void forRows(ThreadPool* pool, int64_t rows, int64_t work, const Fn& fn) {
    if (!pool || pool->size() < 2 || rows < 2 || work < kMinParallelWork) {
        fn(int64_t(0), rows);
        return;
    }
    pool->parallelFor(size_t(rows), [&](size_t r0, size_t r1) { fn(int64_t(r0), int64_t(r1)); });
}

void dotMatmul(const float* x, int nTok, const ops::WeightView& w, float* y, ThreadPool* pool) {
    const DotKernels& k = kernels();
    const RowPlan plan = planFor(w, k);
    const int64_t cols = w.cols, rows = w.rows;

    // Activation rows, prepared once; actStride is the byte distance from token t to t + 1.
    thread_local std::vector<uint8_t> actBuf;
    const void* act = x;
    size_t actStride = size_t(cols) * sizeof(float);
    if (plan.fn && plan.act == ActKind::Q8_0) {
        actStride = size_t(cols / 32) * sizeof(ActQ8_0);
        actBuf.resize(actStride * size_t(nTok));
        for (int t = 0; t < nTok; ++t)
            quantizeActQ8_0(x + int64_t(t) * cols,
                            reinterpret_cast<ActQ8_0*>(actBuf.data() + actStride * size_t(t)),
                            cols);
        act = actBuf.data();
    } else if (plan.fn && plan.act == ActKind::Q8_K) {
        actStride = size_t(cols / 256) * sizeof(ActQ8_K);
        actBuf.resize(actStride * size_t(nTok));
        for (int t = 0; t < nTok; ++t)
            quantizeActQ8_K(x + int64_t(t) * cols,
                            reinterpret_cast<ActQ8_K*>(actBuf.data() + actStride * size_t(t)),
                            cols);
        act = actBuf.data();
    }

    const auto* base = static_cast<const uint8_t*>(w.data);
    const size_t rowBytes = w.rowBytes();
    const auto* actBytes = static_cast<const uint8_t*>(act);
    // Rows go in blocks of about kRowBlockBytes, each block against every token, so the block and
    // one activation row stay in L1 while the tokens go by.
    const size_t rowStride = plan.fn ? rowBytes : size_t(cols) * sizeof(float);
    const int64_t rowBlock = std::max<int64_t>(1, int64_t(kRowBlockBytes / rowStride));
    forRows(pool, rows, rows * cols * nTok, [&](int64_t r0, int64_t r1) {
        thread_local std::vector<float> rowBuf;
        const DotFn fn = plan.fn ? plan.fn : k.dotF32;
        if (!plan.fn) rowBuf.resize(size_t(std::min(rowBlock, r1 - r0) * cols));
        for (int64_t rb = r0; rb < r1; rb += rowBlock) {
            const int64_t n = std::min(rowBlock, r1 - rb);
            const uint8_t* block = base + size_t(rb) * rowBytes;
            if (!plan.fn) {
                for (int64_t r = 0; r < n; ++r)
                    w.rowToF32(rb + r, rowBuf.data() + r * cols);
                block = reinterpret_cast<const uint8_t*>(rowBuf.data());
            }
            for (int t = 0; t < nTok; ++t) {
                const uint8_t* a = actBytes + actStride * size_t(t);
                float* yt = y + int64_t(t) * rows + rb;
                for (int64_t r = 0; r < n; ++r)
                    yt[r] = fn(block + size_t(r) * rowStride, a, cols);
            }
        }
    });
}

void limitBlasThreads() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

void gemmMatmul(const float* x, int nTok, const ops::WeightView& w, float* y, ThreadPool* pool) {
    limitBlasThreads();
    const DotKernels& k = kernels();
    const int64_t cols = w.cols, rows = w.rows;
    const int64_t panelRows = std::max(kMinPanelRows, kPanelFloats / std::max<int64_t>(cols, 1));
    forRows(pool, rows, rows * cols * nTok, [&](int64_t r0, int64_t r1) {
        if (w.type == ops::WeightType::F32) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nTok, int(r1 - r0), int(cols),
                        1.0f, x, int(cols), static_cast<const float*>(w.data) + r0 * cols,
                        int(cols), 0.0f, y + r0, int(rows));
            return;
        }
        thread_local std::vector<float> panel;
        panel.resize(size_t(std::min(panelRows, r1 - r0) * cols));
        for (int64_t p = r0; p < r1; p += panelRows) {
            const int64_t n = std::min(panelRows, r1 - p);
            if (w.type == ops::WeightType::Quantized) {
                // Rows of a view are contiguous: one call dequantizes the whole panel.
                (void)quants::dequantizeRow(
                    w.ggmlType, static_cast<const uint8_t*>(w.data) + size_t(p) * w.rowBytes(),
                    panel.data(), n * cols);
            } else if (w.type == ops::WeightType::F16) {
                k.f16ToF32Row(static_cast<const uint16_t*>(w.data) + p * cols, panel.data(),
                              n * cols);
            } else {
                for (int64_t r = 0; r < n; ++r)
                    w.rowToF32(p + r, panel.data() + r * cols);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nTok, int(n), int(cols), 1.0f, x,
                        int(cols), panel.data(), int(cols), 0.0f, y + p, int(rows));
        }
    });
}

} // namespace

void matmul(const float* x, int nTok, const ops::WeightView& w, float* y, ThreadPool* pool) {
    if (nTok <= 0 || w.rows <= 0) return;
    if (w.cols <= 0) {
        for (int64_t i = 0; i < int64_t(nTok) * w.rows; ++i)
            y[i] = 0;
        return;
    }
    const auto path = MatmulPath(g_path.load(std::memory_order_relaxed));
    const bool gemm =
        path == MatmulPath::Gemm || (path == MatmulPath::Auto && nTok >= gemmMinTokens(w));
    if (gemm)
        gemmMatmul(x, nTok, w, y, pool);
    else
        dotMatmul(x, nTok, w, y, pool);
}

const char* matmulIsa() {
    return kernels().isa;
}

const char* gemmLibrary() {
    static const std::string kName = [] {
        // openblas_get_config(): "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
        std::string config = openblas_get_config();
        const auto space = config.find(' ', std::strlen("OpenBLAS "));
        std::string name = space == std::string::npos ? config : config.substr(0, space);
        return name + " (" + openblas_get_corename() + ")";
    }();
    return kName.c_str();
}

int gemmMinTokens(const ops::WeightView& w) {
    const RowPlan plan = planFor(w, scalarDotKernels());
    return plan.fn && plan.act != ActKind::Float ? kGemmMinTokensInt8 : kGemmMinTokensFloat;
}

void forceMatmulPath(MatmulPath path) {
    g_path.store(int(path), std::memory_order_relaxed);
}

void forceScalarKernels(bool force) {
    g_forceScalar.store(force, std::memory_order_relaxed);
}

} // namespace moe::cpu
