// Qt Test for the Vulkan op table (backends/vulkan/vulkan-backend.h): every forward op against the
// CPU reference (engine/ops through backend-op-check.h, or the CPU backend where it is the
// reference itself) on odd shapes, by max normalized error, for every weight type the shaders
// decode. Inputs are uploaded to both backends, the ops run on each, results are downloaded.
// Tolerances: 1e-5 for float math (measured <= ~2e-6 on lavapipe), exact for copies, ids and
// routing statistics. The quantized matmul reference is ops::matmul (dequantized weights, float
// activations; the CPU backend's int8 activation path is a different approximation).
// Runs on any Vulkan device, lavapipe included (CI); QSKIPs only when there is no device at all.
#include "backend-op-check.h"
#include "backends/backend.h"
#include "core/dtypes.h"
#include "core/half.h"
#include "moe/devices.h"
#include "ops/quants/quants.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

using namespace moe;
using backend_check::maxNormalizedError;
using backend_check::randomVector;

namespace {

constexpr double kTolerance = 1e-5;

// Memory of one backend for a test: uploads host vectors, downloads results.
struct Mem {
    explicit Mem(ComputeBackend* backend) : be(backend) {}
    ComputeBackend* be;
    std::vector<BackendMemory> keep;
    template <class T> T* put(const std::vector<T>& v) {
        auto m = be->allocate(std::max<size_t>(v.size() * sizeof(T), 4));
        if (!m.isOk()) qFatal("allocate: %s", m.status().message().c_str());
        if (!v.empty()) (void)be->upload(m->data(), v.data(), v.size() * sizeof(T));
        T* p = static_cast<T*>(m->data());
        keep.push_back(std::move(m).value());
        return p;
    }
    template <class T> std::vector<T> get(const T* p, size_t n) {
        std::vector<T> out(n);
        const Status s = be->download(out.data(), p, n * sizeof(T));
        if (!s.isOk()) qWarning("download: %s", s.message().c_str());
        return s.isOk() ? out : std::vector<T>();
    }
};

// A weight matrix [rows, cols] of random values in `type` (quantized with ops/quants).
struct HostWeight {
    std::vector<uint8_t> bytes;
    ops::WeightView view;
};

HostWeight makeWeight(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
    const std::vector<float> f = randomVector(size_t(rows * cols), -1.0f, 1.0f, seed);
    HostWeight w;
    w.view.rows = rows;
    w.view.cols = cols;
    w.view.ggmlType = uint32_t(type);
    switch (type) {
    case GgmlType::F32:
        w.view.type = ops::WeightType::F32;
        break;
    case GgmlType::F16:
        w.view.type = ops::WeightType::F16;
        break;
    case GgmlType::BF16:
        w.view.type = ops::WeightType::BF16;
        break;
    default:
        w.view.type = ops::WeightType::Quantized;
        break;
    }
    w.bytes.resize(w.view.rowBytes() * size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
        const float* src = f.data() + r * cols;
        uint8_t* dst = w.bytes.data() + size_t(r) * w.view.rowBytes();
        if (type == GgmlType::F32) {
            std::memcpy(dst, src, size_t(cols) * 4);
        } else if (type == GgmlType::F16 || type == GgmlType::BF16) {
            for (int64_t c = 0; c < cols; ++c) {
                const uint16_t h = type == GgmlType::F16 ? f32ToF16(src[c]) : f32ToBf16(src[c]);
                std::memcpy(dst + 2 * c, &h, 2);
            }
        } else {
            const Status s = quants::quantizeRow(uint32_t(type), src, dst, cols);
            if (!s.isOk()) qFatal("quantize: %s", s.message().c_str());
        }
    }
    w.view.data = w.bytes.data();
    return w;
}

// The weight types with their column granularity (block size).
struct TypeCase {
    const char* name;
    GgmlType type;
    int64_t block;
};
const TypeCase kTypes[] = {
    {"f32", GgmlType::F32, 1},     {"f16", GgmlType::F16, 1},     {"bf16", GgmlType::BF16, 1},
    {"q4_0", GgmlType::Q4_0, 32},  {"q4_1", GgmlType::Q4_1, 32},  {"q5_0", GgmlType::Q5_0, 32},
    {"q5_1", GgmlType::Q5_1, 32},  {"q8_0", GgmlType::Q8_0, 32},  {"q2_k", GgmlType::Q2_K, 256},
    {"q3_k", GgmlType::Q3_K, 256}, {"q4_k", GgmlType::Q4_K, 256}, {"q5_k", GgmlType::Q5_K, 256},
    {"q6_k", GgmlType::Q6_K, 256},
};

// Odd column counts per granularity.
int64_t oddCols(int64_t block) {
    return block == 1 ? 67 : block == 32 ? 96 : 512;
}

QString errText(double err) {
    return QString("max normalized error %1").arg(err);
}

} // namespace

class TestBackendVulkan : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void reportsVulkanDevice();
    void embedMatchesCpu_data();
    void embedMatchesCpu();
    void matmulMatchesReference_data();
    void matmulMatchesReference();
    void matmulTransposedMatchesCpu_data();
    void matmulTransposedMatchesCpu();
    void rowOpsMatchCpu();
    void copiesMatchCpu();
    void ropeMatchesCpu_data();
    void ropeMatchesCpu();
    void attentionMatchesCpu_data();
    void attentionMatchesCpu();
    void routeMatchesCpu_data();
    void routeMatchesCpu();
    void moeExpertsMatchReference_data();
    void moeExpertsMatchReference();
    void routingStatisticsMatchCpu();
    void badPointerIsReported();
    void longStreamsReuseDescriptorPools();

private:
    bool ready() const { return m_vk != nullptr; }
    QString m_noDevice;
    std::unique_ptr<ComputeBackend> m_cpu, m_vk;
};

void TestBackendVulkan::initTestCase() {
    m_cpu = makeCpuBackend(1);
    const DeviceReport report = listDevices();
    const bool any = std::any_of(report.devices.begin(), report.devices.end(),
                                 [](const DeviceInfo& d) { return d.backend == "vulkan"; });
    for (const std::string& line : report.unavailable)
        if (line.rfind("vulkan:", 0) == 0) m_noDevice = QString::fromStdString(line);
    if (!any) {
        qInfo("no Vulkan device: %s", qPrintable(m_noDevice));
        return;
    }
    auto vk = makeVulkanBackend(0);
    QVERIFY2(vk.isOk(), vk.status().message().c_str());
    m_vk = std::move(vk).value();
    qInfo("running on %s", m_vk->name().c_str());
}

#define REQUIRE_DEVICE()                                                                           \
    if (!ready()) QSKIP(qPrintable("no Vulkan device: " + m_noDevice))

void TestBackendVulkan::reportsVulkanDevice() {
    const DeviceReport report = listDevices();
    QVERIFY(std::find(report.builtBackends.begin(), report.builtBackends.end(), "vulkan") !=
            report.builtBackends.end());
    REQUIRE_DEVICE();
    for (const DeviceInfo& d : report.devices) {
        if (d.backend != "vulkan") continue;
        qInfo("vulkan %d: %s: %s", d.index, d.name.c_str(), d.detail.c_str());
        QVERIFY(!d.name.empty());
        for (const char* field : {"Vulkan 1.", "fp16 ", "int8 dot ", "shared ", "kernels: "})
            QVERIFY2(d.detail.find(field) != std::string::npos, d.detail.c_str());
    }
    QCOMPARE(makeVulkanBackend(int(report.devices.size()) + 5).status().code(),
             StatusCode::NotFound);
}

void TestBackendVulkan::embedMatchesCpu_data() {
    QTest::addColumn<int>("type");
    for (const TypeCase& t : kTypes)
        QTest::addRow("%s", t.name) << int(t.type);
}

void TestBackendVulkan::embedMatchesCpu() {
    QFETCH(int, type);
    REQUIRE_DEVICE();
    const TypeCase& tc = *std::find_if(std::begin(kTypes), std::end(kTypes),
                                       [&](auto& t) { return int(t.type) == type; });
    const HostWeight w = makeWeight(GgmlType(type), 11, oddCols(tc.block), 7);
    auto vw = m_vk->residentWeight(w.view);
    QVERIFY2(vw.isOk(), vw.status().message().c_str());
    Mem vk(m_vk.get());
    const std::vector<int32_t> ids = {3, 0, 10, 3, 7};
    float* out = vk.put(std::vector<float>(ids.size() * size_t(w.view.cols)));
    m_vk->embed(*vw, vk.put(ids), int(ids.size()), out);
    std::vector<float> want(ids.size() * size_t(w.view.cols));
    m_cpu->embed(w.view, ids.data(), int(ids.size()), want.data());
    const double err = maxNormalizedError(vk.get(out, want.size()), want);
    QVERIFY2(err == 0.0, qPrintable(errText(err)));
}

void TestBackendVulkan::matmulMatchesReference_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("nTok");
    for (const TypeCase& t : kTypes)
        for (int nTok : {1, 3, 6})
            QTest::addRow("%s-tok%d", t.name, nTok) << int(t.type) << nTok;
}

void TestBackendVulkan::matmulMatchesReference() {
    QFETCH(int, type);
    QFETCH(int, nTok);
    REQUIRE_DEVICE();
    const TypeCase& tc = *std::find_if(std::begin(kTypes), std::end(kTypes),
                                       [&](auto& t) { return int(t.type) == type; });
    const int64_t rows = 37, cols = oddCols(tc.block);
    const HostWeight w = makeWeight(GgmlType(type), rows, cols, uint32_t(type * 31 + nTok));
    const std::vector<float> x = randomVector(size_t(nTok * cols), -1.0f, 1.0f, uint32_t(nTok));
    std::vector<float> want(size_t(nTok * rows));
    ops::matmul(x.data(), nTok, w.view, want.data(), nullptr);
    auto vw = m_vk->residentWeight(w.view);
    QVERIFY2(vw.isOk(), vw.status().message().c_str());
    Mem vk(m_vk.get());
    float* y = vk.put(std::vector<float>(want.size(), NAN));
    m_vk->matmul(vk.put(x), nTok, *vw, y);
    const double err = maxNormalizedError(vk.get(y, want.size()), want);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));
    // A view of rows inside the resident weight (an expert of a stacked tensor, a head's rows).
    const ops::WeightView sub = vw->rowsView(5, 9);
    float* y2 = vk.put(std::vector<float>(size_t(nTok * 9), NAN));
    m_vk->matmul(vk.put(x), nTok, sub, y2);
    std::vector<float> want2(size_t(nTok * 9));
    ops::matmul(x.data(), nTok, w.view.rowsView(5, 9), want2.data(), nullptr);
    const double err2 = maxNormalizedError(vk.get(y2, want2.size()), want2);
    QVERIFY2(err2 <= kTolerance, qPrintable("rowsView: " + errText(err2)));
}

void TestBackendVulkan::matmulTransposedMatchesCpu_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("nTok");
    for (const TypeCase& t : kTypes)
        for (int nTok : {1, 5})
            QTest::addRow("%s-tok%d", t.name, nTok) << int(t.type) << nTok;
}

void TestBackendVulkan::matmulTransposedMatchesCpu() {
    QFETCH(int, type);
    QFETCH(int, nTok);
    REQUIRE_DEVICE();
    const TypeCase& tc = *std::find_if(std::begin(kTypes), std::end(kTypes),
                                       [&](auto& t) { return int(t.type) == type; });
    const int64_t rows = 13, cols = oddCols(tc.block);
    const HostWeight w = makeWeight(GgmlType(type), rows + 4, cols, uint32_t(type + 5));
    const ops::WeightView hostSub =
        w.view.rowsView(4, rows); // as DeepSeek's kv_b_proj rows of a head
    const std::vector<float> x = randomVector(size_t(nTok * rows), -1.0f, 1.0f, 3);
    std::vector<float> want(size_t(nTok * cols));
    m_cpu->matmulTransposed(x.data(), nTok, hostSub, want.data());
    auto vw = m_vk->residentWeight(w.view);
    QVERIFY2(vw.isOk(), vw.status().message().c_str());
    Mem vk(m_vk.get());
    float* y = vk.put(std::vector<float>(want.size(), NAN));
    m_vk->matmulTransposed(vk.put(x), nTok, vw->rowsView(4, rows), y);
    const double err = maxNormalizedError(vk.get(y, want.size()), want);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));
}

void TestBackendVulkan::rowOpsMatchCpu() {
    REQUIRE_DEVICE();
    Mem vk(m_vk.get());
    const int rows = 5, n = 67;
    const int64_t xs = 70, ys = 81;
    // rmsnorm with strides, then in place.
    const std::vector<float> x = randomVector(size_t(rows * xs), -2.0f, 2.0f, 1);
    const std::vector<float> w = randomVector(size_t(n), 0.5f, 1.5f, 2);
    std::vector<float> yCpu(size_t(rows * ys), 0.0f);
    m_cpu->rmsnorm(x.data(), xs, w.data(), yCpu.data(), ys, rows, n, 1e-6f);
    float* yV = vk.put(std::vector<float>(size_t(rows * ys), 0.0f));
    float* xV = vk.put(x);
    const float* wV = vk.put(w);
    m_vk->rmsnorm(xV, xs, wV, yV, ys, rows, n, 1e-6f);
    double err = maxNormalizedError(vk.get(yV, yCpu.size()), yCpu);
    QVERIFY2(err <= kTolerance, qPrintable("rmsnorm: " + errText(err)));
    std::vector<float> xCpu = x;
    m_cpu->rmsnorm(xCpu.data() + 3, xs, w.data(), xCpu.data() + 3, xs, rows - 1, n, 1e-5f);
    m_vk->rmsnorm(xV + 3, xs, wV, xV + 3, xs, rows - 1, n, 1e-5f);
    err = maxNormalizedError(vk.get(xV, xCpu.size()), xCpu);
    QVERIFY2(err <= kTolerance, qPrintable("rmsnorm in place: " + errText(err)));

    // add, addRows, swiglu, sigmoidGateAdd on [rows, n].
    const std::vector<float> a = randomVector(size_t(rows * n), -3.0f, 3.0f, 4);
    const std::vector<float> b = randomVector(size_t(rows * n), -3.0f, 3.0f, 5);
    const std::vector<float> bias = randomVector(size_t(n), -1.0f, 1.0f, 6);
    const std::vector<float> g = randomVector(size_t(n), -0.2f, 0.2f, 7);
    std::vector<float> c = a;
    m_cpu->add(c.data(), b.data(), int64_t(c.size()));
    m_cpu->addRows(c.data(), bias.data(), rows, n);
    m_cpu->swiglu(c.data(), b.data(), c.data(), int64_t(c.size()));
    m_cpu->sigmoidGateAdd(c.data(), b.data(), a.data(), g.data(), rows, n);
    float* cV = vk.put(a);
    const float* bV = vk.put(b);
    m_vk->add(cV, bV, int64_t(a.size()));
    m_vk->addRows(cV, vk.put(bias), rows, n);
    m_vk->swiglu(cV, bV, cV, int64_t(a.size()));
    m_vk->sigmoidGateAdd(cV, bV, vk.put(a), vk.put(g), rows, n);
    err = maxNormalizedError(vk.get(cV, c.size()), c);
    QVERIFY2(err <= kTolerance, qPrintable("add/addRows/swiglu/sigmoidGateAdd: " + errText(err)));
}

void TestBackendVulkan::copiesMatchCpu() {
    REQUIRE_DEVICE();
    Mem vk(m_vk.get());
    const std::vector<float> src = randomVector(600, -1.0f, 1.0f, 9);
    std::vector<float> dst(700, 0.5f);
    const std::vector<int32_t> rows = {4, 0, 9, 2};
    float* dV = vk.put(dst);
    const float* sV = vk.put(src);
    const int32_t* rV = vk.put(rows);
    // copy2d from a column offset (a head's slice of q), gather, scatter.
    m_cpu->copy2d(dst.data() + 3, 20, src.data() + 7, 31, 6, 11);
    m_vk->copy2d(dV + 3, 20, sV + 7, 31, 6, 11);
    m_cpu->gatherRows(dst.data() + 200, src.data(), rows.data(), 4, 13);
    m_vk->gatherRows(dV + 200, sV, rV, 4, 13);
    m_cpu->scatterRows(dst.data() + 300, src.data() + 50, rows.data(), 4, 17);
    m_vk->scatterRows(dV + 300, sV + 50, rV, 4, 17);
    QVERIFY(vk.get(dV, dst.size()) == dst);
}

void TestBackendVulkan::ropeMatchesCpu_data() {
    QTest::addColumn<bool>("interleaved");
    QTest::addColumn<int>("offset");
    QTest::addColumn<float>("factor");
    QTest::addRow("half") << false << 0 << 1.0f;
    QTest::addRow("interleaved-offset-yarn-factor") << true << 6 << 1.2f;
}

void TestBackendVulkan::ropeMatchesCpu() {
    QFETCH(bool, interleaved);
    QFETCH(int, offset);
    QFETCH(float, factor);
    REQUIRE_DEVICE();
    const int nTok = 5, nHead = 3, nRot = 10;
    const int64_t headStride = 22, rowStride = nHead * headStride + 4;
    ops::RopeScalingParams sp;
    const ops::RopeFreqs f = ops::ropeFrequencies(nRot, 10000.0f, sp);
    const std::vector<float> x = randomVector(size_t(nTok * rowStride), -1.0f, 1.0f, 11);
    const std::vector<int32_t> pos = {0, 1, 17, 4095, 31999};
    Mem vk(m_vk.get());
    RopeTable hostTable{f.invFreq.data(), factor};
    RopeTable devTable{vk.put(f.invFreq), factor};
    std::vector<float> want = x;
    m_cpu->rope(want.data(), nTok, rowStride, nHead, headStride, offset, nRot, pos.data(),
                hostTable, interleaved);
    float* xV = vk.put(x);
    m_vk->rope(xV, nTok, rowStride, nHead, headStride, offset, nRot, vk.put(pos), devTable,
               interleaved);
    const double err = maxNormalizedError(vk.get(xV, want.size()), want);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));
}

void TestBackendVulkan::attentionMatchesCpu_data() {
    QTest::addColumn<bool>("mla");
    QTest::addColumn<int>("window");
    QTest::addRow("gqa-paged") << false << 0;
    QTest::addRow("gqa-paged-window") << false << 5;
    QTest::addRow("mla-shared-rows") << true << 0;
}

void TestBackendVulkan::attentionMatchesCpu() {
    QFETCH(bool, mla);
    QFETCH(int, window);
    REQUIRE_DEVICE();
    ops::AttentionShape sh;
    if (mla) { // one latent KV head: K = [c | k_pe] (40), V = c (32), the same rows
        sh.nHead = 3, sh.nHeadKv = 1, sh.dk = 40, sh.dv = 32, sh.kStride = sh.vStride = 40;
    } else {
        sh.nHead = 6, sh.nHeadKv = 2, sh.dk = sh.dv = 12, sh.kStride = sh.vStride = 24;
    }
    sh.window = window;
    // Two sequences in pages of 4 rows, interleaved in the pool: seq 0 owns pages 0,2,4,6,8 and
    // seq 1 pages 1,3,5,7,9. Seq 0 prefills positions 10..14, seq 1 decodes position 18.
    const int pageSize = 4, nPages = 10, tableStride = 5;
    const std::vector<int32_t> tables = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    const std::vector<int32_t> seq = {0, 0, 0, 0, 0, 1};
    const std::vector<int32_t> pos = {10, 11, 12, 13, 14, 18};
    const int nTok = int(pos.size());
    const std::vector<float> kc =
        randomVector(size_t(nPages * pageSize * sh.kStride), -1.0f, 1.0f, 21);
    const std::vector<float> vc =
        randomVector(size_t(nPages * pageSize * sh.vStride), -1.0f, 1.0f, 22);
    const std::vector<float> q = randomVector(size_t(nTok * sh.nHead * sh.dk), -1.0f, 1.0f, 23);
    const float scale = 0.3f;
    PagedRows hostRows{tables.data(), tableStride, seq.data(), pageSize};
    std::vector<float> want(size_t(nTok * sh.nHead * sh.dv));
    m_cpu->attention(q.data(), kc.data(), mla ? kc.data() : vc.data(), want.data(), nTok,
                     pos.data(), hostRows, sh, scale);
    Mem vk(m_vk.get());
    const float* kV = vk.put(kc);
    PagedRows devRows{vk.put(tables), tableStride, vk.put(seq), pageSize};
    float* oV = vk.put(std::vector<float>(want.size(), NAN));
    m_vk->attention(vk.put(q), kV, mla ? kV : vk.put(vc), oV, nTok, vk.put(pos), devRows, sh,
                    scale);
    const double err = maxNormalizedError(vk.get(oV, want.size()), want);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));

    // One sequence past a key tile (300 rows, unpaged as one page table of 75 pages).
    const int n2 = 300;
    std::vector<int32_t> t2(75);
    std::iota(t2.begin(), t2.end(), 0);
    const std::vector<int32_t> s2 = {0, 0}, p2 = {298, 299};
    const std::vector<float> k2 = randomVector(size_t(n2 * sh.kStride), -1.0f, 1.0f, 24);
    const std::vector<float> v2 = randomVector(size_t(n2 * sh.vStride), -1.0f, 1.0f, 25);
    const std::vector<float> q2 = randomVector(size_t(2 * sh.nHead * sh.dk), -1.0f, 1.0f, 26);
    std::vector<float> want2(size_t(2 * sh.nHead * sh.dv));
    m_cpu->attention(q2.data(), k2.data(), mla ? k2.data() : v2.data(), want2.data(), 2, p2.data(),
                     PagedRows{t2.data(), 75, s2.data(), 4}, sh, scale);
    const float* k2V = vk.put(k2);
    float* o2V = vk.put(std::vector<float>(want2.size(), NAN));
    m_vk->attention(vk.put(q2), k2V, mla ? k2V : vk.put(v2), o2V, 2, vk.put(p2),
                    PagedRows{vk.put(t2), 75, vk.put(s2), 4}, sh, scale);
    const double err2 = maxNormalizedError(vk.get(o2V, want2.size()), want2);
    QVERIFY2(err2 <= kTolerance, qPrintable("300 keys: " + errText(err2)));
}

void TestBackendVulkan::routeMatchesCpu_data() {
    QTest::addColumn<bool>("sigmoid");
    QTest::addColumn<bool>("topTwoSum");
    QTest::addColumn<int>("nGroup");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<float>("threshold");
    QTest::addRow("softmax-top3") << false << false << 1 << false << 0.0f;
    QTest::addRow("softmax-threshold") << false << false << 1 << false << 0.6f;
    QTest::addRow("softmax-groups-max") << false << false << 4 << false << 0.0f;
    QTest::addRow("sigmoid-bias-groups-top2sum") << true << true << 4 << true << 0.0f;
    QTest::addRow("sigmoid-bias-threshold") << true << false << 1 << true << 0.5f;
}

void TestBackendVulkan::routeMatchesCpu() {
    QFETCH(bool, sigmoid);
    QFETCH(bool, topTwoSum);
    QFETCH(int, nGroup);
    QFETCH(bool, bias);
    QFETCH(float, threshold);
    REQUIRE_DEVICE();
    const int nTok = 9, nExpert = 16, k = 3;
    const std::vector<float> logits = randomVector(size_t(nTok * nExpert), -3.0f, 3.0f, 31);
    const std::vector<float> b = randomVector(size_t(nExpert), -0.1f, 0.1f, 32);
    ops::RouterParams p;
    p.sigmoid = sigmoid;
    p.groupByTopTwoSum = topTwoSum;
    p.nGroup = nGroup;
    p.topkGroup = 2;
    p.k = k;
    p.normalize = true;
    p.scale = 2.5f;
    p.bias = bias ? b.data() : nullptr;
    std::vector<int32_t> ids(size_t(nTok * k));
    std::vector<float> w(ids.size());
    m_cpu->route(logits.data(), nTok, nExpert, p, threshold, true, ids.data(), w.data());
    Mem vk(m_vk.get());
    int32_t* idV = vk.put(std::vector<int32_t>(ids.size(), 99));
    float* wV = vk.put(std::vector<float>(w.size(), NAN));
    ops::RouterParams pd = p;
    pd.bias = bias ? vk.put(b) : nullptr;
    m_vk->route(vk.put(logits), nTok, nExpert, pd, threshold, true, idV, wV);
    QCOMPARE(vk.get(idV, ids.size()), ids);
    const double err = maxNormalizedError(vk.get(wV, w.size()), w);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));
    if (threshold > 0) QVERIFY(std::count(ids.begin(), ids.end(), -1) > 0); // the cut dropped some
}

void TestBackendVulkan::moeExpertsMatchReference_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("stackedWeights");
    QTest::addColumn<int>("nTok");
    QTest::addRow("f32-separate-tok7") << int(GgmlType::F32) << false << 7;
    QTest::addRow("f32-stacked-tok1") << int(GgmlType::F32) << true << 1;
    QTest::addRow("q8_0-stacked-tok7") << int(GgmlType::Q8_0) << true << 7;
    QTest::addRow("q4_k-stacked-tok7") << int(GgmlType::Q4_K) << true << 7;
    QTest::addRow("q6_k-separate-tok2") << int(GgmlType::Q6_K) << false << 2;
}

void TestBackendVulkan::moeExpertsMatchReference() {
    QFETCH(int, type);
    QFETCH(bool, stackedWeights);
    QFETCH(int, nTok);
    REQUIRE_DEVICE();
    const int nExp = 5, k = 2;
    const int64_t nEmbd = type == int(GgmlType::F32) ? 40 : 256,
                  nFf = type == int(GgmlType::F32) ? 24 : 256;
    // Stacked: one tensor per projection (GGUF *_exps); separate: one tensor per expert (HF).
    std::vector<HostWeight> host;
    ExpertSet set;
    for (int proj = 0; proj < 3; ++proj) {
        const int64_t rows = proj == 2 ? nEmbd : nFf, cols = proj == 2 ? nFf : nEmbd;
        std::vector<ops::WeightView>& views = proj == 0 ? set.gate : proj == 1 ? set.up : set.down;
        if (stackedWeights) {
            host.push_back(makeWeight(GgmlType(type), rows * nExp, cols, uint32_t(40 + proj)));
            auto r = m_vk->residentWeight(host.back().view);
            QVERIFY(r.isOk());
            for (int e = 0; e < nExp; ++e)
                views.push_back(r->rowsView(e * rows, rows));
        } else {
            for (int e = 0; e < nExp; ++e) {
                host.push_back(
                    makeWeight(GgmlType(type), rows, cols, uint32_t(50 + proj * 10 + e)));
                auto r = m_vk->residentWeight(host.back().view);
                QVERIFY(r.isOk());
                views.push_back(*r);
            }
        }
    }
    QVERIFY(m_vk->prepareExperts(set).isOk());
    auto hostView = [&](int proj, int e) {
        const int64_t rows = proj == 2 ? nEmbd : nFf;
        return stackedWeights ? host[size_t(proj)].view.rowsView(e * rows, rows)
                              : host[size_t(proj * nExp + e)].view;
    };
    std::vector<int32_t> ids(size_t(nTok * k));
    for (size_t s = 0; s < ids.size(); ++s)
        ids[s] = int32_t((s * 3 + s / 2) % nExp);
    if (nTok > 1) ids[3] = -1; // a slot the threshold dropped
    const std::vector<float> w = randomVector(ids.size(), 0.1f, 1.0f, 61);
    const std::vector<float> x = randomVector(size_t(nTok * nEmbd), -1.0f, 1.0f, 62);
    // Reference: each routed slot through its expert with ops::matmul and ops::swiglu.
    std::vector<float> want(static_cast<size_t>(nTok * nEmbd), 0.0f), g(static_cast<size_t>(nFf)),
        u(static_cast<size_t>(nFf)), d(static_cast<size_t>(nEmbd));
    for (int t = 0; t < nTok; ++t)
        for (int j = 0; j < k; ++j) {
            const int e = ids[size_t(t * k + j)];
            if (e < 0) continue;
            ops::matmul(x.data() + t * nEmbd, 1, hostView(0, e), g.data(), nullptr);
            ops::matmul(x.data() + t * nEmbd, 1, hostView(1, e), u.data(), nullptr);
            ops::swiglu(g.data(), u.data(), g.data(), nFf);
            ops::matmul(g.data(), 1, hostView(2, e), d.data(), nullptr);
            for (int64_t i = 0; i < nEmbd; ++i)
                want[size_t(t * nEmbd + i)] += w[size_t(t * k + j)] * d[size_t(i)];
        }
    Mem vk(m_vk.get());
    float* out = vk.put(std::vector<float>(want.size(), NAN));
    m_vk->moeExperts(vk.put(x), nTok, vk.put(ids), vk.put(w), k, set, out);
    const double err = maxNormalizedError(vk.get(out, want.size()), want);
    QVERIFY2(err <= kTolerance, qPrintable(errText(err)));
}

void TestBackendVulkan::routingStatisticsMatchCpu() {
    REQUIRE_DEVICE();
    const int nSlots = 23, nExpert = 7;
    std::vector<int32_t> ids(nSlots);
    for (int s = 0; s < nSlots; ++s)
        ids[size_t(s)] = s % 5 == 4 ? -1 : (s * 5) % nExpert;
    const std::vector<float> w = randomVector(size_t(nSlots), 0.0f, 1.0f, 71);
    std::vector<int64_t> counts(nExpert, 3);
    std::vector<double> sums(nExpert, 0.25);
    Mem vk(m_vk.get());
    int64_t* cV = vk.put(counts);
    double* sV = vk.put(sums);
    const int32_t* idV = vk.put(ids);
    const float* wV = vk.put(w);
    for (int rep = 0; rep < 2; ++rep) {
        m_cpu->accumulateRouting(ids.data(), w.data(), nSlots, nExpert, counts.data(), sums.data());
        m_vk->accumulateRouting(idV, wV, nSlots, nExpert, cV, sV);
    }
    QCOMPARE(vk.get(cV, counts.size()), counts);
    QCOMPARE(vk.get(sV, sums.size()), sums); // the same additions in the same order: bit for bit
}

void TestBackendVulkan::badPointerIsReported() {
    REQUIRE_DEVICE();
    std::vector<float> host(8, 1.0f);
    Mem vk(m_vk.get());
    float* y = vk.put(host);
    m_vk->add(y, host.data(), 8); // a host pointer is not backend memory
    const Status s = m_vk->sync();
    QCOMPARE(s.code(), StatusCode::InvalidArgument);
    QVERIFY2(s.message().find("add") != std::string::npos, s.message().c_str());
    QVERIFY(m_vk->sync().isOk()); // reported once; the backend goes on
    m_vk->add(y, y, 8);
    QCOMPARE(vk.get(y, 8), std::vector<float>(8, 2.0f));
}

// More dispatches in one submission than a descriptor pool holds (512 sets), three times over:
// the stream moves to further pools and reuses them after each sync.
void TestBackendVulkan::longStreamsReuseDescriptorPools() {
    REQUIRE_DEVICE();
    Mem vk(m_vk.get());
    float* y = vk.put(std::vector<float>(5, 0.0f));
    const float* one = vk.put(std::vector<float>(5, 1.0f));
    for (int round = 1; round <= 3; ++round) {
        for (int i = 0; i < 1100; ++i)
            m_vk->add(y, one, 5);
        QCOMPARE(vk.get(y, 5), std::vector<float>(5, float(1100 * round)));
    }
}

QTEST_GUILESS_MAIN(TestBackendVulkan)
#include "test-backend-vulkan.moc"
