// The CPU backend's matmul (backends/cpu/cpu-matmul.h) against the reference op ops::matmul, the
// golden: the scalar, readable definition every backend is judged by. Every weight type the
// engine reads, odd shapes (row counts that no pool size divides, 3 blocks of 32 columns), token
// counts 1, 2, 7, 64, 300, both paths (row dots, OpenBLAS sgemm) and both kernel sets (AVX2 when
// this CPU has it, and the portable scalar kernels forced through cpu::forceScalarKernels).
//
// Error measure: max|ours - ref| / max|ref| over the whole output. Tolerances:
//   - sgemm path, every type, and the dot path for float weights and for the quantized types that
//     dot a dequantized row (Q4_1, Q5_1, Q2_K, Q3_K): 1e-5. The weights are converted exactly as
//     the reference converts them; only the float summation order differs (~1e-7 * sqrt(cols)).
//   - dot path for Q8_0, Q4_0, Q5_0 (activation in Q8_0 blocks of 32) and Q4_K, Q5_K, Q6_K
//     (activation in Q8_K blocks of 256): the activation is rounded to d * round(x / d) with
//     d = max|x in block| / 127, an error of at most d/2 per element (0.4 % of the block's largest
//     value). On this data (x uniform in [-1, 1)) those errors have a standard deviation of
//     d / sqrt(12) ~ 0.0023 against 0.58 for x and add with random signs as the products do, so
//     the normalized error is near 0.4 % (measured over the 150 cases here: median 0.39 %, 90th
//     percentile 0.50 %, largest 1.04 % on the 7x256, 2-token case whose 14 outputs make max|ref|
//     small): the tolerance is 2e-2. Two exact checks back it: every output differs from the
//     reference by no more than the rounding can move it, sum_c |W[r, c]| * |x - xq|[c] (a hard
//     bound, triangle inequality), and against ops::matmul run on the activation already rounded
//     to its 8-bit grid xq the error is again within 1e-5 (the integer arithmetic is exact).
#include "backends/cpu/cpu-dot.h"
#include "backends/cpu/cpu-matmul.h"
#include "core/half.h"
#include "core/rng.h"
#include "core/thread-pool.h"
#include "formats/gguf/gguf-types.h"
#include "ops/ops.h"
#include "ops/quants/quants.h"

#include <QTest>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace moe;
using gguf::GgmlType;

namespace {

enum class Kernels { Native, Scalar };

struct Weights {
    std::vector<uint8_t> bytes;
    ops::WeightView view;
};

// Random weights in [-1, 1) stored in `type` (quantized by the reference quantizer).
Weights makeWeights(GgmlType type, int64_t rows, int64_t cols, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> w(static_cast<size_t>(rows * cols));
    for (auto& v : w)
        v = rng.symmetric();
    Weights out;
    out.view.rows = rows;
    out.view.cols = cols;
    switch (type) {
    case GgmlType::F32:
        out.view.type = ops::WeightType::F32;
        out.bytes.resize(w.size() * 4);
        std::memcpy(out.bytes.data(), w.data(), out.bytes.size());
        break;
    case GgmlType::F16:
    case GgmlType::BF16: {
        out.view.type = type == GgmlType::F16 ? ops::WeightType::F16 : ops::WeightType::BF16;
        out.bytes.resize(w.size() * 2);
        auto* h = reinterpret_cast<uint16_t*>(out.bytes.data());
        for (size_t i = 0; i < w.size(); ++i)
            h[i] = type == GgmlType::F16 ? f32ToF16(w[i]) : f32ToBf16(w[i]);
        break;
    }
    default: {
        out.view.type = ops::WeightType::Quantized;
        out.view.ggmlType = uint32_t(type);
        const size_t rowBytes = quants::rowBytes(uint32_t(type), cols);
        out.bytes.resize(rowBytes * size_t(rows));
        for (int64_t r = 0; r < rows; ++r)
            [&] {
                QVERIFY(quants::quantizeRow(uint32_t(type), w.data() + r * cols,
                                            out.bytes.data() + size_t(r) * rowBytes, cols)
                            .isOk());
            }();
    }
    }
    out.view.data = out.bytes.data();
    return out;
}

// The activation block the decode kernels quantize x to for this type: 32, 256, or 0 (none).
int actBlock(GgmlType type) {
    switch (type) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
        return 32;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
        return 256;
    default:
        return 0;
    }
}

// x rounded to the 8-bit grid the decode kernels use (d * q from the shared quantizers).
std::vector<float> roundedActivation(const std::vector<float>& x, int64_t cols, int block) {
    std::vector<float> out(x.size());
    const int64_t nTok = int64_t(x.size()) / cols;
    for (int64_t t = 0; t < nTok; ++t) {
        const float* src = x.data() + t * cols;
        float* dst = out.data() + t * cols;
        if (block == 32) {
            std::vector<cpu::ActQ8_0> q(static_cast<size_t>(cols / 32));
            cpu::quantizeActQ8_0(src, q.data(), cols);
            for (int64_t c = 0; c < cols; ++c)
                dst[c] = q[size_t(c / 32)].d * float(q[size_t(c / 32)].qs[c % 32]);
        } else {
            std::vector<cpu::ActQ8_K> q(static_cast<size_t>(cols / 256));
            cpu::quantizeActQ8_K(src, q.data(), cols);
            for (int64_t c = 0; c < cols; ++c)
                dst[c] = q[size_t(c / 256)].d * float(q[size_t(c / 256)].qs[c % 256]);
        }
    }
    return out;
}

double normalizedError(const std::vector<float>& got, const std::vector<float>& ref) {
    double maxDiff = 0, maxRef = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        maxDiff = std::max(maxDiff, double(std::fabs(got[i] - ref[i])));
        maxRef = std::max(maxRef, double(std::fabs(ref[i])));
    }
    return maxRef > 0 ? maxDiff / maxRef : maxDiff;
}

// Restores the process-wide switches whatever the test does.
struct SwitchGuard {
    ~SwitchGuard() {
        cpu::forceScalarKernels(false);
        cpu::forceMatmulPath(cpu::MatmulPath::Auto);
    }
};

} // namespace

class TestCpuMatmul : public QObject {
    Q_OBJECT

private slots:
    void matchesReference_data();
    void matchesReference();
    void autoPathMatchesReference();
    void isaIsReported();
};

void TestCpuMatmul::matchesReference_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("nTok");
    QTest::addColumn<int>("path");
    QTest::addColumn<int>("kernels");

    const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_1, GgmlType::Q5_1,
                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                              GgmlType::Q6_K};
    for (GgmlType type : types) {
        const bool kQuant =
            quants::rowBytes(uint32_t(type), 256) > 0 && quants::rowBytes(uint32_t(type), 32) == 0;
        // (rows, cols): 131 and 7 rows split unevenly over a 3-thread pool; 96 = 3 blocks of 32.
        std::vector<std::pair<int, int>> shapes = {{131, 512}, {7, 256}};
        if (!kQuant) shapes.push_back({67, 96});
        if (type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16)
            shapes.push_back({33, 101});
        for (auto [rows, cols] : shapes)
            for (int nTok : {1, 2, 7, 64, 300}) {
                const std::string base = std::string(typeName(uint32_t(type))) + " " +
                                         std::to_string(rows) + "x" + std::to_string(cols) +
                                         " nTok " + std::to_string(nTok);
                QTest::newRow((base + " dot native").c_str())
                    << int(type) << rows << cols << nTok << int(cpu::MatmulPath::Dot)
                    << int(Kernels::Native);
                QTest::newRow((base + " dot scalar").c_str())
                    << int(type) << rows << cols << nTok << int(cpu::MatmulPath::Dot)
                    << int(Kernels::Scalar);
                QTest::newRow((base + " gemm").c_str())
                    << int(type) << rows << cols << nTok << int(cpu::MatmulPath::Gemm)
                    << int(Kernels::Native);
                // The sgemm path converts F16 panels with the ISA's converter: both of them.
                if (type == GgmlType::F16)
                    QTest::newRow((base + " gemm scalar").c_str())
                        << int(type) << rows << cols << nTok << int(cpu::MatmulPath::Gemm)
                        << int(Kernels::Scalar);
            }
    }
}

void TestCpuMatmul::matchesReference() {
    QFETCH(int, type);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, nTok);
    QFETCH(int, path);
    QFETCH(int, kernels);
    SwitchGuard guard;
    const auto gtype = GgmlType(type);

    const Weights w = makeWeights(gtype, rows, cols, 1000 + uint64_t(type) * 7 + uint64_t(rows));
    Rng rng(42 + uint64_t(nTok));
    std::vector<float> x(static_cast<size_t>(int64_t(nTok) * cols));
    for (auto& v : x)
        v = rng.symmetric();
    // A block of zeros (a zero activation scale) at the start of token 0.
    std::fill(x.begin(), x.begin() + std::min(cols, 32), 0.0f);

    ThreadPool pool(3);
    std::vector<float> ref(static_cast<size_t>(int64_t(nTok) * rows));
    ops::matmul(x.data(), nTok, w.view, ref.data(), &pool);

    cpu::forceMatmulPath(cpu::MatmulPath(path));
    cpu::forceScalarKernels(Kernels(kernels) == Kernels::Scalar);
    std::vector<float> got(ref.size(), std::nanf(""));
    cpu::matmul(x.data(), nTok, w.view, got.data(), &pool);

    const int block = path == int(cpu::MatmulPath::Dot) ? actBlock(gtype) : 0;
    const double tol = block ? 2e-2 : 1e-5;
    const double err = normalizedError(got, ref);
    QVERIFY2(err <= tol, qPrintable(QStringLiteral("normalized error %1 > %2 (kernels %3)")
                                        .arg(err)
                                        .arg(tol)
                                        .arg(cpu::matmulIsa())));
    if (block) {
        // Per output, the rounding can move the result by at most sum_c |W[r, c]| * |x - xq|[c].
        const std::vector<float> xq = roundedActivation(x, cols, block);
        std::vector<float> row(static_cast<size_t>(cols));
        for (int r = 0; r < rows; ++r) {
            w.view.rowToF32(r, row.data());
            for (int t = 0; t < nTok; ++t) {
                double bound = 0;
                for (int c = 0; c < cols; ++c)
                    bound += std::fabs(double(row[size_t(c)])) *
                             std::fabs(double(x[size_t(t * cols + c)]) -
                                       double(xq[size_t(t * cols + c)]));
                const double diff = std::fabs(double(got[size_t(t * rows + r)]) -
                                              double(ref[size_t(t * rows + r)]));
                if (diff > bound * 1.001 + 1e-5)
                    QFAIL(qPrintable(
                        QStringLiteral("token %1 row %2: |ours - ref| %3 > rounding bound %4")
                            .arg(t)
                            .arg(r)
                            .arg(diff)
                            .arg(bound)));
            }
        }
        // The integer kernels exactly: the reference on the activation's 8-bit grid.
        ops::matmul(xq.data(), nTok, w.view, ref.data(), &pool);
        const double errGrid = normalizedError(got, ref);
        QVERIFY2(errGrid <= 1e-5, qPrintable(QStringLiteral("on the Q8 grid: normalized error %1 "
                                                            "> 1e-5 (kernels %2)")
                                                 .arg(errGrid)
                                                 .arg(cpu::matmulIsa())));
    }
}

// The default path choice (dot below gemmMinTokens, sgemm from it) with no pool and a 2-thread
// pool: token counts on both sides of the threshold, for a type with int8 kernels and a float one.
void TestCpuMatmul::autoPathMatchesReference() {
    SwitchGuard guard;
    ThreadPool pool(2);
    for (GgmlType type : {GgmlType::Q4_K, GgmlType::F16}) {
        const Weights w = makeWeights(type, 45, 512, 5);
        const int threshold = cpu::gemmMinTokens(w.view);
        for (int nTok : {1, threshold - 1, threshold, 100}) {
            Rng rng(static_cast<uint64_t>(nTok));
            std::vector<float> x(static_cast<size_t>(int64_t(nTok) * 512));
            for (auto& v : x)
                v = rng.symmetric();
            std::vector<float> ref(static_cast<size_t>(int64_t(nTok) * 45)), got(ref.size());
            ops::matmul(x.data(), nTok, w.view, ref.data(), nullptr);
            for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
                std::fill(got.begin(), got.end(), std::nanf(""));
                cpu::matmul(x.data(), nTok, w.view, got.data(), p);
                const double tol = type == GgmlType::Q4_K && nTok < threshold ? 2e-2 : 1e-5;
                QVERIFY2(normalizedError(got, ref) <= tol,
                         qPrintable(QStringLiteral("%1 nTok %2")
                                        .arg(typeName(uint32_t(type)).c_str())
                                        .arg(nTok)));
            }
        }
    }
}

void TestCpuMatmul::isaIsReported() {
    SwitchGuard guard;
    const std::string native = cpu::matmulIsa();
#if defined(__x86_64__)
    __builtin_cpu_init();
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    QCOMPARE(native, std::string(avx2 ? "avx2" : "scalar"));
    if (!avx2) qInfo("this CPU has no AVX2+FMA+F16C: the 'native' rows ran the scalar kernels");
#else
    QCOMPARE(native, std::string("scalar"));
#endif
    cpu::forceScalarKernels(true);
    QCOMPARE(std::string(cpu::matmulIsa()), std::string("scalar"));
    cpu::forceScalarKernels(false);
    QCOMPARE(std::string(cpu::matmulIsa()), native);
    QVERIFY(std::string(cpu::gemmLibrary()).rfind("OpenBLAS", 0) == 0);
}

QTEST_GUILESS_MAIN(TestCpuMatmul)
#include "test-cpu-matmul.moc"
