// Qt Test for the CUDA backend: device query through listDevices(), argument checks, errors as
// Status without a device, moe::cuda::rmsnormF32, and every forward op of the op table
// (makeCudaBackend, headMatmul included) against the CPU reference (engine/ops through the CPU backend, or ops::matmul
// where the CPU backend's matmul quantizes activations) on odd shapes, by max normalized error
// (backend-op-check.h). Tolerances: 1e-5 for float32 math on both sides (weights of every type are
// dequantized exactly on both sides, so quantized types share it); routing ids must be equal.
// Without a CUDA device the device cases QSKIP with the runtime's reason; run them on a GPU
// machine with tests/engine/run-gpu-backend-tests.sh.
#include "backends/backend.h"
#include "backends/cuda/cuda-ops.h"
#include "backend-op-check.h"
#include "core/dtypes.h"
#include "core/half.h"
#include "moe/devices.h"
#include "ops/quants/quants.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <random>
#include <vector>

namespace {

constexpr double kTolerance = 1e-5;

using backend_check::maxNormalizedError;
using backend_check::randomVector;
using backend_check::referenceRmsnorm;

} // namespace

class TestBackendCuda : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void reportsCudaDevice();
    void rejectsBadShapes();
    void failsWithStatusWithoutDevice();
    void rmsnormMatchesCpu_data();
    void rmsnormMatchesCpu();
    void makeBackendWithoutDevice();
    void matmulMatchesReference_data();
    void matmulMatchesReference();
    void headMatmulMatchesReference_data();
    void headMatmulMatchesReference();
    void rowOpsMatchCpu_data();
    void rowOpsMatchCpu();
    void attentionMatchesCpu_data();
    void attentionMatchesCpu();
    void routeMatchesCpu_data();
    void routeMatchesCpu();
    void moeExpertsMatchReference_data();
    void moeExpertsMatchReference();

private:
    bool backends(std::unique_ptr<moe::ComputeBackend>& gpu, std::unique_ptr<moe::ComputeBackend>& cpu);

    moe::DeviceReport m_report;
    bool m_hasDevice = false;
    QString m_noDeviceReason;
};

void TestBackendCuda::initTestCase() {
    m_report = moe::listDevices();
    for (const moe::DeviceInfo& d : m_report.devices) {
        if (d.backend == "cuda") {
            m_hasDevice = true;
            qInfo("cuda device %d: %s, %.1f GiB, %s", d.index, d.name.c_str(),
                  double(d.memoryBytes) / (1024.0 * 1024.0 * 1024.0), d.detail.c_str());
        }
    }
    for (const std::string& line : m_report.unavailable) {
        if (line.rfind("cuda:", 0) == 0) m_noDeviceReason = QString::fromStdString(line);
    }
    if (!m_hasDevice) qInfo("%s", qPrintable(m_noDeviceReason));
}

void TestBackendCuda::reportsCudaDevice() {
    const auto& built = m_report.builtBackends;
    QVERIFY(std::find(built.begin(), built.end(), "cuda") != built.end());
    if (!m_hasDevice) {
        // The query must have said why, in the documented form, instead of crashing.
        QVERIFY2(m_noDeviceReason.startsWith("cuda: built, but no usable device: "),
                 qPrintable(m_noDeviceReason));
        QSKIP(qPrintable("no CUDA device: " + m_noDeviceReason));
    }
    for (const moe::DeviceInfo& d : m_report.devices) {
        if (d.backend != "cuda") continue;
        QVERIFY(!d.name.empty());
        QVERIFY(d.memoryBytes > 0);
        QVERIFY2(d.detail.find("sm_") != std::string::npos, d.detail.c_str());
    }
}

void TestBackendCuda::rejectsBadShapes() {
    std::vector<float> x(6), w(3), y(6);
    const moe::Status wrongWeight = moe::cuda::rmsnormF32(x, std::span(w).first(2), y, 2, 3, 1e-6f);
    QCOMPARE(wrongWeight.code(), moe::StatusCode::InvalidArgument);
    const moe::Status wrongRows = moe::cuda::rmsnormF32(x, w, y, 3, 3, 1e-6f);
    QCOMPARE(wrongRows.code(), moe::StatusCode::InvalidArgument);
    const moe::Status zeroN = moe::cuda::rmsnormF32({}, {}, {}, 2, 0, 1e-6f);
    QCOMPARE(zeroN.code(), moe::StatusCode::InvalidArgument);
    QVERIFY(moe::cuda::rmsnormF32({}, w, {}, 0, 3, 1e-6f).isOk()); // no rows: nothing to do
}

void TestBackendCuda::failsWithStatusWithoutDevice() {
    if (m_hasDevice) QSKIP("a CUDA device is present: the no-device path cannot be exercised");
    std::vector<float> x(6, 1.0f), w(3, 1.0f), y(6);
    const moe::Status status = moe::cuda::rmsnormF32(x, w, y, 2, 3, 1e-6f);
    QVERIFY(!status.isOk());
    QCOMPARE(status.code(), moe::StatusCode::DeviceError);
    qInfo("without a device: %s", status.toString().c_str());
    QVERIFY2(status.message().find("cudaMalloc") != std::string::npos, status.message().c_str());
}

void TestBackendCuda::rmsnormMatchesCpu_data() {
    QTest::addColumn<qint64>("nRows");
    QTest::addColumn<qint64>("n");
    for (qint64 rows : {1, 3, 17}) {
        for (qint64 n : {1, 7, 33, 1000, 4097})
            QTest::addRow("rows%lld-n%lld", rows, n) << rows << n;
    }
    QTest::addRow("rows70000-n3: more rows than grid.x") << qint64(70000) << qint64(3);
}

void TestBackendCuda::rmsnormMatchesCpu() {
    QFETCH(qint64, nRows);
    QFETCH(qint64, n);
    if (!m_hasDevice) QSKIP(qPrintable("no CUDA device: " + m_noDeviceReason));
    const float eps = 1e-6f;
    const std::vector<float> x =
        randomVector(size_t(nRows * n), -2.0f, 2.0f, uint32_t(nRows * 131 + n));
    const std::vector<float> w = randomVector(size_t(n), 0.5f, 1.5f, uint32_t(n + 7));
    std::vector<float> y(x.size(), std::nanf(""));
    const moe::Status status = moe::cuda::rmsnormF32(x, w, y, nRows, n, eps);
    QVERIFY2(status.isOk(), status.toString().c_str());
    const double err = maxNormalizedError(y, referenceRmsnorm(x, w, nRows, n, eps));
    QVERIFY2(err <= kTolerance, qPrintable(QString("max normalized error %1").arg(err)));
}

// ---- the op table -------------------------------------------------------------------------

namespace {

using moe::BackendMemory;
using moe::ComputeBackend;
namespace ops = moe::ops;

// A host weight [rows, cols] of a type name ("F32", "BF16", "Q4_K", ...) from random values.
struct HostWeight {
    std::vector<uint8_t> bytes;
    ops::WeightView view;
};
HostWeight makeWeight(const std::string& type, int64_t rows, int64_t cols, uint32_t seed) {
    const std::vector<float> v = randomVector(size_t(rows * cols), -1.0f, 1.0f, seed);
    HostWeight w;
    w.view.rows = rows;
    w.view.cols = cols;
    if (type == "F32") {
        w.bytes.resize(v.size() * 4);
        std::memcpy(w.bytes.data(), v.data(), w.bytes.size());
    } else if (type == "F16" || type == "BF16") {
        w.view.type = type == "F16" ? ops::WeightType::F16 : ops::WeightType::BF16;
        w.bytes.resize(v.size() * 2);
        for (size_t i = 0; i < v.size(); ++i) {
            const uint16_t h = type == "F16" ? moe::f32ToF16(v[i]) : moe::f32ToBf16(v[i]);
            std::memcpy(w.bytes.data() + 2 * i, &h, 2);
        }
    } else {
        uint32_t id = 0;
        for (uint32_t t = 0; t < 40; ++t)
            if (moe::typeName(t) == type) id = t;
        w.view.type = ops::WeightType::Quantized;
        w.view.ggmlType = id;
        const size_t rb = moe::quants::rowBytes(id, cols);
        w.bytes.resize(rb * size_t(rows));
        for (int64_t r = 0; r < rows; ++r)
            (void)moe::quants::quantizeRow(id, v.data() + r * cols, w.bytes.data() + size_t(r) * rb, cols);
    }
    w.view.data = w.bytes.data();
    return w;
}

// Columns of a row of this type: whole blocks for quantized types, odd for float rows.
int64_t colsFor(const std::string& type) {
    if (type == "F32" || type == "F16" || type == "BF16") return 67;
    if (type.find("_K") != std::string::npos) return 512;
    return 96;
}

const char* const kTypes[] = {"F32",  "F16",  "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                              "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};

template <class T> moe::Result<BackendMemory> put(ComputeBackend& be, const std::vector<T>& v) {
    MOE_ASSIGN_OR_RETURN(BackendMemory m, be.allocate(std::max<size_t>(v.size() * sizeof(T), 4)));
    MOE_TRY(be.upload(m.data(), v.data(), v.size() * sizeof(T)));
    return m;
}

} // namespace

#define PUT(var, be, vec)                                                                          \
    BackendMemory var;                                                                             \
    {                                                                                              \
        auto r_ = put(be, vec);                                                                    \
        QVERIFY2(r_.isOk(), r_.status().toString().c_str());                                       \
        var = std::move(r_).value();                                                               \
    }
#define GET(vec, be, mem)                                                                          \
    {                                                                                              \
        const moe::Status s_ = (be).download((vec).data(), (mem).data(), (vec).size() * sizeof((vec)[0])); \
        QVERIFY2(s_.isOk(), s_.toString().c_str());                                                \
    }
#define EXPECT_CLOSE(got, want, tol, what)                                                         \
    {                                                                                              \
        const double e_ = maxNormalizedError(got, want);                                           \
        QVERIFY2(e_ <= (tol), qPrintable(QString("%1: max normalized error %2").arg(what).arg(e_))); \
    }

bool TestBackendCuda::backends(std::unique_ptr<ComputeBackend>& gpu, std::unique_ptr<ComputeBackend>& cpu) {
    if (!m_hasDevice) return false;
    auto g = moe::makeCudaBackend(0);
    if (!g.isOk()) return false;
    gpu = std::move(g).value();
    cpu = moe::makeCpuBackend(2);
    return true;
}

#define NEED_BACKENDS(gpu, cpu)                                                                    \
    std::unique_ptr<ComputeBackend> gpu, cpu;                                                      \
    if (!backends(gpu, cpu)) QSKIP(qPrintable("no CUDA device: " + m_noDeviceReason));

void TestBackendCuda::makeBackendWithoutDevice() {
    auto b = moe::makeCudaBackend(m_hasDevice ? 1000 : 0);
    QVERIFY(!b.isOk());
    qInfo("makeCudaBackend: %s", b.status().toString().c_str());
    QVERIFY(b.status().message().find("cuda") != std::string::npos);
}

void TestBackendCuda::matmulMatchesReference_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("nTok");
    for (const char* t : kTypes)
        for (int n : {1, 3, 17, 130}) QTest::newRow(qPrintable(QString("%1-tok%2").arg(t).arg(n))) << QString(t) << n;
}

// matmul (mat-vec path <= 8 tokens, tiled path above; cuBLAS for F32) and matmulTransposed
// against ops::matmul / the CPU backend's transposed product, on 37 rows (not a multiple of the
// 4-row or 64-row tiles).
void TestBackendCuda::matmulMatchesReference() {
    QFETCH(QString, type);
    QFETCH(int, nTok);
    NEED_BACKENDS(gpu, cpu);
    const int64_t rows = 37, cols = colsFor(type.toStdString());
    HostWeight w = makeWeight(type.toStdString(), rows, cols, 11);
    auto dw = gpu->residentWeight(w.view);
    QVERIFY2(dw.isOk(), dw.status().toString().c_str());
    const std::vector<float> x = randomVector(size_t(nTok * cols), -1.0f, 1.0f, 5);
    std::vector<float> want(size_t(nTok * rows)), got(want.size(), NAN);
    ops::matmul(x.data(), nTok, w.view, want.data(), nullptr);
    PUT(dx, *gpu, x);
    PUT(dy, *gpu, got);
    gpu->matmul(dx.as<float>(), nTok, *dw, dy.as<float>());
    GET(got, *gpu, dy);
    EXPECT_CLOSE(got, want, kTolerance, "matmul");

    const std::vector<float> xt = randomVector(size_t(nTok * rows), -1.0f, 1.0f, 6);
    std::vector<float> wantT(size_t(nTok * cols)), gotT(wantT.size(), NAN);
    cpu->matmulTransposed(xt.data(), nTok, w.view, wantT.data());
    PUT(dxt, *gpu, xt);
    PUT(dyt, *gpu, gotT);
    gpu->matmulTransposed(dxt.as<float>(), nTok, *dw, dyt.as<float>());
    GET(gotT, *gpu, dyt);
    EXPECT_CLOSE(gotT, wantT, kTolerance, "matmulTransposed");
}

void TestBackendCuda::headMatmulMatchesReference_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("nTok");
    QTest::addColumn<bool>("transposed");
    for (const char* t : {"F32", "Q8_0", "Q4_K"})
        for (int n : {1, 3, 17})
            for (bool tr : {false, true})
                QTest::newRow(qPrintable(QString("%1-tok%2%3").arg(t).arg(n).arg(tr ? "-T" : "")))
                    << QString(t) << n << tr;
}

// headMatmul (MLA's per-head products) on 5 heads of 13 rows spaced 15 rows apart in one tensor,
// x and y with padded head and row strides (the padding must stay untouched), against per-head
// ops::matmul / the CPU backend's matmulTransposed on gathered inputs; the CPU backend's default
// headMatmul must give the same where its matmul is exact float math (F32, transposed).
void TestBackendCuda::headMatmulMatchesReference() {
    QFETCH(QString, type);
    QFETCH(int, nTok);
    QFETCH(bool, transposed);
    NEED_BACKENDS(gpu, cpu);
    const int nHead = 5;
    const int64_t rowsH = 13, offset = 15, cols = colsFor(type.toStdString());
    HostWeight w = makeWeight(type.toStdString(), nHead * offset, cols, 21);
    const ops::WeightView head0 = w.view.rowsView(0, rowsH);
    const int64_t in = transposed ? rowsH : cols, out = transposed ? cols : rowsH;
    const int64_t xHead = in + 3, xRow = nHead * xHead + 1, yHead = out + 2, yRow = nHead * yHead + 5;
    const std::vector<float> x = randomVector(size_t(nTok * xRow), -1.0f, 1.0f, 8);
    std::vector<float> want(size_t(nTok * yRow), 7.0f), got(want.size(), NAN);
    for (int h = 0; h < nHead; ++h) {
        const ops::WeightView wh = w.view.rowsView(h * offset, rowsH);
        std::vector<float> xh(size_t(nTok * in)), yh(size_t(nTok * out));
        for (int t = 0; t < nTok; ++t)
            std::copy_n(x.begin() + t * xRow + h * xHead, in, xh.begin() + t * in);
        if (transposed)
            cpu->matmulTransposed(xh.data(), nTok, wh, yh.data());
        else
            ops::matmul(xh.data(), nTok, wh, yh.data(), nullptr);
        for (int t = 0; t < nTok; ++t)
            std::copy_n(yh.begin() + t * out, out, want.begin() + t * yRow + h * yHead);
    }
    if (transposed || type == "F32") {
        std::vector<float> viaDefault(want.size(), 7.0f);
        cpu->headMatmul(x.data(), xRow, xHead, nTok, nHead, head0, offset, transposed, viaDefault.data(), yRow,
                        yHead);
        EXPECT_CLOSE(viaDefault, want, kTolerance, "cpu default headMatmul");
    }
    auto dw = gpu->residentWeight(w.view);
    QVERIFY2(dw.isOk(), dw.status().toString().c_str());
    std::vector<float> init(want.size(), 7.0f);
    PUT(dx, *gpu, x);
    PUT(dy, *gpu, init);
    gpu->headMatmul(dx.as<float>(), xRow, xHead, nTok, nHead, dw->rowsView(0, rowsH), offset, transposed,
                    dy.as<float>(), yRow, yHead);
    GET(got, *gpu, dy);
    EXPECT_CLOSE(got, want, kTolerance, "headMatmul");
}

void TestBackendCuda::rowOpsMatchCpu_data() {
    QTest::addColumn<int>("nTok");
    for (int n : {1, 3, 17, 130}) QTest::addRow("tok%d", n) << n;
}

// embed (four table types), strided in-place rmsnorm, addRows, add, swiglu, sigmoidGateAdd,
// copy2d, gatherRows, scatterRows and rope (both pairings, a head offset, an attention factor).
void TestBackendCuda::rowOpsMatchCpu() {
    QFETCH(int, nTok);
    NEED_BACKENDS(gpu, cpu);
    const int n = 67, nVocab = 29;
    std::vector<int32_t> ids(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) ids[size_t(t)] = (t * 7 + 3) % nVocab;
    PUT(dids, *gpu, ids);
    for (const char* type : {"F32", "F16", "Q8_0", "Q4_K"}) {
        const int64_t cols = std::string(type) == "Q4_K" ? 256 : (std::string(type) == "Q8_0" ? 96 : n);
        HostWeight table = makeWeight(type, nVocab, cols, 3);
        auto dt = gpu->residentWeight(table.view);
        QVERIFY2(dt.isOk(), dt.status().toString().c_str());
        std::vector<float> want(size_t(nTok * cols)), got(want.size(), NAN);
        cpu->embed(table.view, ids.data(), nTok, want.data());
        PUT(dout, *gpu, got);
        gpu->embed(*dt, dids.as<int32_t>(), nTok, dout.as<float>());
        GET(got, *gpu, dout);
        EXPECT_CLOSE(got, want, 0.0, QString("embed ") + type);
    }
    // Rows of stride 80 holding n values (the in-place, strided form the families use).
    const int64_t stride = 80;
    std::vector<float> x = randomVector(size_t(nTok * stride), -2.0f, 2.0f, 9);
    const std::vector<float> w = randomVector(size_t(n), 0.5f, 1.5f, 10);
    std::vector<float> want = x, got(x.size());
    cpu->rmsnorm(want.data(), stride, w.data(), want.data(), stride, nTok, n, 1e-6f);
    PUT(dx, *gpu, x);
    PUT(dw, *gpu, w);
    gpu->rmsnorm(dx.as<float>(), stride, dw.as<float>(), dx.as<float>(), stride, nTok, n, 1e-6f);
    GET(got, *gpu, dx);
    EXPECT_CLOSE(got, want, kTolerance, "rmsnorm");

    const size_t total = size_t(nTok) * size_t(n);
    const std::vector<float> a = randomVector(total, -3.0f, 3.0f, 12), b = randomVector(total, -3.0f, 3.0f, 13);
    const std::vector<float> g = randomVector(size_t(n), -0.3f, 0.3f, 14);
    std::vector<float> wantA = a, gotA(total);
    cpu->addRows(wantA.data(), w.data(), nTok, n);
    cpu->add(wantA.data(), b.data(), int64_t(total));
    cpu->swiglu(wantA.data(), b.data(), wantA.data(), int64_t(total));
    cpu->sigmoidGateAdd(wantA.data(), b.data(), a.data(), g.data(), nTok, n);
    PUT(da, *gpu, a);
    PUT(da0, *gpu, a);
    PUT(db, *gpu, b);
    PUT(dg, *gpu, g);
    gpu->addRows(da.as<float>(), dw.as<float>(), nTok, n);
    gpu->add(da.as<float>(), db.as<float>(), int64_t(total));
    gpu->swiglu(da.as<float>(), db.as<float>(), da.as<float>(), int64_t(total));
    gpu->sigmoidGateAdd(da.as<float>(), db.as<float>(), da0.as<float>(), dg.as<float>(), nTok, n);
    GET(gotA, *gpu, da);
    EXPECT_CLOSE(gotA, wantA, kTolerance, "addRows+add+swiglu+sigmoidGateAdd");

    // copy2d into a strided buffer, gather rows in reverse, scatter them to shuffled rows.
    std::vector<float> wantC(size_t(nTok) * 70, 0.0f), gotC(wantC.size());
    cpu->copy2d(wantC.data(), 70, a.data(), n, nTok, 50);
    std::vector<int32_t> order(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) order[size_t(t)] = nTok - 1 - t;
    std::vector<float> wantG(total), gotG(total), wantS(size_t(nTok + 3) * n, 1.0f), gotS(wantS.size());
    cpu->gatherRows(wantG.data(), a.data(), order.data(), nTok, n);
    std::vector<int32_t> dest(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) dest[size_t(t)] = (t * 3) % (nTok + 3);
    std::sort(dest.begin(), dest.end());
    dest.erase(std::unique(dest.begin(), dest.end()), dest.end());
    const int nDest = int(dest.size());
    cpu->scatterRows(wantS.data(), a.data(), dest.data(), nDest, n);
    PUT(dc, *gpu, wantC);
    std::vector<float> zeros(wantC.size(), 0.0f);
    PUT(dc0, *gpu, zeros);
    PUT(dorder, *gpu, order);
    PUT(ddest, *gpu, dest);
    PUT(dgath, *gpu, gotG);
    std::vector<float> ones(wantS.size(), 1.0f);
    PUT(dscat, *gpu, ones);
    gpu->copy2d(dc0.as<float>(), 70, da0.as<float>(), n, nTok, 50);
    gpu->gatherRows(dgath.as<float>(), da0.as<float>(), dorder.as<int32_t>(), nTok, n);
    gpu->scatterRows(dscat.as<float>(), da0.as<float>(), ddest.as<int32_t>(), nDest, n);
    GET(gotC, *gpu, dc0);
    GET(gotG, *gpu, dgath);
    GET(gotS, *gpu, dscat);
    EXPECT_CLOSE(gotC, wantC, 0.0, "copy2d");
    EXPECT_CLOSE(gotG, wantG, 0.0, "gatherRows");
    EXPECT_CLOSE(gotS, wantS, 0.0, "scatterRows");

    // rope: 3 heads of 24 with 16 rotated dims from offset 4, positions up to 5000, YaRN-like factor.
    std::vector<int32_t> pos(static_cast<size_t>(nTok));
    for (int t = 0; t < nTok; ++t) pos[size_t(t)] = (t * 37) % 5000;
    ops::RopeScalingParams yarn;
    yarn.type = "yarn";
    yarn.factor = 4.0f;
    yarn.maxPositions = 4096;
    const ops::RopeFreqs f = ops::ropeFrequencies(16, 10000.0f, yarn);
    PUT(dpos, *gpu, pos);
    PUT(dfreq, *gpu, f.invFreq);
    for (bool interleaved : {false, true}) {
        const std::vector<float> r = randomVector(size_t(nTok) * 80, -1.0f, 1.0f, 20);
        std::vector<float> wantR = r, gotR(r.size());
        moe::RopeTable host{f.invFreq.data(), f.attentionFactor};
        cpu->rope(wantR.data(), nTok, 80, 3, 24, 4, 16, pos.data(), host, interleaved);
        PUT(dr, *gpu, r);
        gpu->rope(dr.as<float>(), nTok, 80, 3, 24, 4, 16, dpos.as<int32_t>(), {dfreq.as<float>(), f.attentionFactor},
                  interleaved);
        GET(gotR, *gpu, dr);
        EXPECT_CLOSE(gotR, wantR, kTolerance, interleaved ? "rope interleaved" : "rope half");
    }
}

void TestBackendCuda::attentionMatchesCpu_data() {
    QTest::addColumn<int>("nTok");
    QTest::addColumn<int>("kind"); // 0 GQA, 1 GQA + window 5, 2 MLA shared rows, 3 MHA dk != dv
    for (int kind = 0; kind < 4; ++kind)
        for (int n : {1, 3, 17, 130}) QTest::addRow("kind%d-tok%d", kind, n) << n << kind;
}

// Three sequences in a paged cache of 4-row pages handed out interleaved; the batch holds the
// last tokens of each sequence at their positions (prefill and decode alike).
void TestBackendCuda::attentionMatchesCpu() {
    QFETCH(int, nTok);
    QFETCH(int, kind);
    NEED_BACKENDS(gpu, cpu);
    ops::AttentionShape sh;
    sh.nHead = kind == 2 ? 3 : 4;
    sh.nHeadKv = kind == 2 ? 1 : (kind == 3 ? 4 : 2);
    sh.dk = kind == 2 ? 40 : (kind == 3 ? 24 : 16);
    sh.dv = kind == 2 ? 32 : 16;
    sh.kStride = int64_t(sh.nHeadKv) * sh.dk;
    sh.vStride = kind == 2 ? sh.kStride : int64_t(sh.nHeadKv) * sh.dv;
    sh.window = kind == 1 ? 5 : 0;
    const int nSeq = 3, ps = 4;
    std::vector<int> len(nSeq), inBatch(nSeq, 0);
    for (int t = 0; t < nTok; ++t) ++inBatch[size_t(t % nSeq)];
    for (int s = 0; s < nSeq; ++s) len[size_t(s)] = inBatch[size_t(s)] + 2 + 3 * s; // cached rows before the batch
    int maxPages = 0;
    for (int s = 0; s < nSeq; ++s) maxPages = std::max(maxPages, (len[size_t(s)] + ps - 1) / ps);
    std::vector<int32_t> tables(size_t(nSeq) * size_t(maxPages), 0);
    int next = 0;
    for (int pg = 0; pg < maxPages; ++pg) // interleaved: sequence s's page pg is physical page next++
        for (int s = 0; s < nSeq; ++s)
            if (pg * ps < len[size_t(s)]) tables[size_t(s) * size_t(maxPages) + size_t(pg)] = next++;
    const int nRows = next * ps;
    std::vector<int32_t> pos, seq;
    for (int s = 0; s < nSeq; ++s)
        for (int i = 0; i < inBatch[size_t(s)]; ++i) {
            seq.push_back(s);
            pos.push_back(len[size_t(s)] - inBatch[size_t(s)] + i);
        }
    const std::vector<float> q = randomVector(size_t(nTok) * size_t(sh.nHead) * size_t(sh.dk), -1.0f, 1.0f, 30);
    const std::vector<float> k = randomVector(size_t(nRows) * size_t(sh.kStride), -1.0f, 1.0f, 31);
    const std::vector<float> v = randomVector(size_t(nRows) * size_t(sh.vStride), -1.0f, 1.0f, 32);
    const float scale = 1.0f / std::sqrt(float(sh.dk));
    std::vector<float> want(size_t(nTok) * size_t(sh.nHead) * size_t(sh.dv)), got(want.size(), NAN);
    const float* vHost = kind == 2 ? k.data() : v.data();
    cpu->attention(q.data(), k.data(), vHost, want.data(), nTok, pos.data(), {tables.data(), maxPages, seq.data(), ps},
                   sh, scale);
    PUT(dq, *gpu, q);
    PUT(dk, *gpu, k);
    PUT(dv, *gpu, v);
    PUT(dtab, *gpu, tables);
    PUT(dpos, *gpu, pos);
    PUT(dseq, *gpu, seq);
    PUT(dout, *gpu, got);
    gpu->attention(dq.as<float>(), dk.as<float>(), kind == 2 ? dk.as<float>() : dv.as<float>(), dout.as<float>(),
                   nTok, dpos.as<int32_t>(), {dtab.as<int32_t>(), maxPages, dseq.as<int32_t>(), ps}, sh, scale);
    GET(got, *gpu, dout);
    EXPECT_CLOSE(got, want, kTolerance, "attention");
}

void TestBackendCuda::routeMatchesCpu_data() {
    QTest::addColumn<int>("variant");
    QTest::addColumn<int>("nTok");
    const char* names[] = {"softmax-k2",  "softmax-k4-normalize", "sigmoid-noaux_tc-bias-scale",
                           "softmax-group-max-scale", "threshold-renormalize", "threshold-raw",
                           "sigmoid-256-experts"};
    for (int v = 0; v < 7; ++v)
        for (int n : {1, 3, 17, 130}) QTest::newRow(qPrintable(QString("%1-tok%2").arg(names[v]).arg(n))) << v << n;
}

// Router variants of every family, with and without the policy's threshold cut, then the
// per-expert statistics: ids equal, weights within 1e-5, counts equal, sums within 1e-9.
void TestBackendCuda::routeMatchesCpu() {
    QFETCH(int, variant);
    QFETCH(int, nTok);
    NEED_BACKENDS(gpu, cpu);
    ops::RouterParams rp;
    int nExpert = 8;
    float threshold = 0.0f;
    bool renorm = false;
    switch (variant) {
    case 0: rp.k = 2; break;
    case 1: nExpert = 60; rp.k = 4; rp.normalize = true; break;
    case 2: nExpert = 64; rp.sigmoid = true; rp.groupByTopTwoSum = true; rp.nGroup = 8; rp.topkGroup = 4;
            rp.k = 8; rp.normalize = true; rp.scale = 2.5f; break;
    case 3: nExpert = 64; rp.nGroup = 8; rp.topkGroup = 3; rp.k = 6; rp.scale = 16.0f; break;
    case 4: nExpert = 16; rp.k = 4; rp.normalize = true; threshold = 0.6f; renorm = true; break;
    case 5: nExpert = 16; rp.k = 4; threshold = 0.5f; break;
    default: nExpert = 256; rp.sigmoid = true; rp.groupByTopTwoSum = true; rp.nGroup = 8; rp.topkGroup = 4;
             rp.k = 8; rp.normalize = true; rp.scale = 2.5f; break;
    }
    const std::vector<float> logits = randomVector(size_t(nTok) * size_t(nExpert), -4.0f, 4.0f, 40 + variant);
    const std::vector<float> bias = randomVector(size_t(nExpert), -0.1f, 0.1f, 50);
    const size_t nSlots = size_t(nTok) * size_t(rp.k);
    std::vector<int32_t> wantIds(nSlots), gotIds(nSlots);
    std::vector<float> wantW(nSlots), gotW(nSlots);
    ops::RouterParams cpuRp = rp;
    if (rp.sigmoid) cpuRp.bias = bias.data();
    cpu->route(logits.data(), nTok, nExpert, cpuRp, threshold, renorm, wantIds.data(), wantW.data());
    PUT(dl, *gpu, logits);
    PUT(db, *gpu, bias);
    PUT(dids, *gpu, gotIds);
    PUT(dw, *gpu, gotW);
    if (rp.sigmoid) rp.bias = db.as<float>();
    gpu->route(dl.as<float>(), nTok, nExpert, rp, threshold, renorm, dids.as<int32_t>(), dw.as<float>());
    GET(gotIds, *gpu, dids);
    GET(gotW, *gpu, dw);
    QCOMPARE(gotIds, wantIds);
    EXPECT_CLOSE(gotW, wantW, kTolerance, "route weights");
    if (threshold > 0) QVERIFY2(std::count(wantIds.begin(), wantIds.end(), -1) > 0 || nTok < 3, "no slot was cut");

    std::vector<int64_t> wantCounts(size_t(nExpert), 2), gotCounts(static_cast<size_t>(nExpert));
    std::vector<double> wantSums(size_t(nExpert), 0.5), gotSums(static_cast<size_t>(nExpert));
    cpu->accumulateRouting(wantIds.data(), wantW.data(), int(nSlots), nExpert, wantCounts.data(), wantSums.data());
    std::vector<int64_t> twos(size_t(nExpert), 2);
    std::vector<double> halves(size_t(nExpert), 0.5);
    PUT(dc, *gpu, twos);
    PUT(ds, *gpu, halves);
    PUT(dwantIds, *gpu, wantIds); // the same slots on both sides: the sums must agree to rounding
    PUT(dwantW, *gpu, wantW);
    gpu->accumulateRouting(dwantIds.as<int32_t>(), dwantW.as<float>(), int(nSlots), nExpert, dc.as<int64_t>(),
                           ds.as<double>());
    GET(gotCounts, *gpu, dc);
    GET(gotSums, *gpu, ds);
    QCOMPARE(gotCounts, wantCounts);
    for (int e = 0; e < nExpert; ++e) QVERIFY(std::abs(gotSums[size_t(e)] - wantSums[size_t(e)]) <= 1e-12);
}

void TestBackendCuda::moeExpertsMatchReference_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("nTok");
    for (const char* t : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"})
        for (int n : {1, 3, 17, 130}) QTest::newRow(qPrintable(QString("%1-tok%2").arg(t).arg(n))) << QString(t) << n;
}

// 8 experts, 3 per token, every 5th token's last slot dropped (id -1, as the threshold leaves it):
// the device sort, the grouped gate+up+SwiGLU and down launches and the combine against
// Σ_j w · down(silu(gate · x) ⊙ up · x) computed with ops::matmul per token and slot.
void TestBackendCuda::moeExpertsMatchReference() {
    QFETCH(QString, type);
    QFETCH(int, nTok);
    NEED_BACKENDS(gpu, cpu);
    const std::string t = type.toStdString();
    const int nExp = 8, k = 3;
    const int64_t nEmbd = colsFor(t), nFf = t.find("_K") != std::string::npos ? 256 : (t[0] == 'Q' ? 64 : 37);
    std::vector<HostWeight> hg, hu, hd;
    moe::ExpertSet set;
    for (int e = 0; e < nExp; ++e) {
        hg.push_back(makeWeight(t, nFf, nEmbd, uint32_t(100 + e)));
        hu.push_back(makeWeight(t, nFf, nEmbd, uint32_t(200 + e)));
        hd.push_back(makeWeight(t, nEmbd, nFf, uint32_t(300 + e)));
    }
    for (int e = 0; e < nExp; ++e) {
        for (auto [host, dst] : {std::pair{&hg, &set.gate}, std::pair{&hu, &set.up}, std::pair{&hd, &set.down}}) {
            auto r = gpu->residentWeight((*host)[size_t(e)].view);
            QVERIFY2(r.isOk(), r.status().toString().c_str());
            dst->push_back(*r);
        }
    }
    const moe::Status prep = gpu->prepareExperts(set);
    QVERIFY2(prep.isOk(), prep.toString().c_str());
    const std::vector<float> x = randomVector(size_t(nTok) * size_t(nEmbd), -1.0f, 1.0f, 60);
    const std::vector<float> wts = randomVector(size_t(nTok) * k, 0.1f, 1.0f, 61);
    std::vector<int32_t> ids(size_t(nTok) * k);
    std::vector<float> w = wts;
    for (int i = 0; i < nTok; ++i)
        for (int j = 0; j < k; ++j) ids[size_t(i * k + j)] = (i * 5 + j * 3 + (i / 8)) % nExp;
    for (int i = 0; i < nTok; i += 5) {
        ids[size_t(i * k + k - 1)] = -1;
        w[size_t(i * k + k - 1)] = 0.0f;
    }
    std::vector<float> want(size_t(nTok) * size_t(nEmbd), 0.0f), got(want.size(), NAN);
    std::vector<float> g(static_cast<size_t>(nFf)), u(static_cast<size_t>(nFf)), d(static_cast<size_t>(nEmbd));
    for (int i = 0; i < nTok; ++i)
        for (int j = 0; j < k; ++j) {
            const int e = ids[size_t(i * k + j)];
            if (e < 0) continue;
            ops::matmul(x.data() + i * nEmbd, 1, hg[size_t(e)].view, g.data(), nullptr);
            ops::matmul(x.data() + i * nEmbd, 1, hu[size_t(e)].view, u.data(), nullptr);
            ops::swiglu(g.data(), u.data(), g.data(), nFf);
            ops::matmul(g.data(), 1, hd[size_t(e)].view, d.data(), nullptr);
            for (int64_t c = 0; c < nEmbd; ++c) want[size_t(i * nEmbd + c)] += w[size_t(i * k + j)] * d[size_t(c)];
        }
    PUT(dx, *gpu, x);
    PUT(dids, *gpu, ids);
    PUT(dw, *gpu, w);
    PUT(dout, *gpu, got);
    gpu->moeExperts(dx.as<float>(), nTok, dids.as<int32_t>(), dw.as<float>(), k, set, dout.as<float>());
    GET(got, *gpu, dout);
    EXPECT_CLOSE(got, want, kTolerance, "moeExperts");
}

QTEST_GUILESS_MAIN(TestBackendCuda)
#include "test-backend-cuda.moc"
