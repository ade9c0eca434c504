// Qt Test for the Vulkan backend v0: device query through listDevices(), argument checks, and
// moe::vulkan::rmsnormF32 (shaders/rmsnorm.comp) against a plain CPU RMSNorm computed here in
// double (an independent reference of the formula in engine/ops/rmsnorm.cpp) on odd shapes, by
// max normalized error. Runs on any Vulkan device, lavapipe included (that is how it runs on
// machines without a GPU); QSKIPs with the loader's reason only when there is no device at all.
#include "backends/vulkan/vulkan-ops.h"
#include "moe/devices.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr double kTolerance = 1e-5;

// y = x / sqrt(mean(x^2) + eps) * w per row, accumulated in double.
std::vector<float> referenceRmsnorm(const std::vector<float>& x, const std::vector<float>& w,
                                    int64_t nRows, int64_t n, float eps) {
    std::vector<float> y(x.size());
    for (int64_t r = 0; r < nRows; ++r) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i)
            sum += double(x[r * n + i]) * double(x[r * n + i]);
        const double scale = 1.0 / std::sqrt(sum / double(n) + double(eps));
        for (int64_t i = 0; i < n; ++i)
            y[r * n + i] = float(double(x[r * n + i]) * scale * w[i]);
    }
    return y;
}

// max_i |got_i - want_i| / max_i |want_i| (absolute error when `want` is all zeros);
// infinity when any output is not finite (an element the kernel never wrote stays NaN).
double maxNormalizedError(const std::vector<float>& got, const std::vector<float>& want) {
    double maxErr = 0.0;
    double maxRef = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        maxErr = std::max(maxErr, std::abs(double(got[i]) - double(want[i])));
        maxRef = std::max(maxRef, std::abs(double(want[i])));
    }
    return maxRef > 0.0 ? maxErr / maxRef : maxErr;
}

std::vector<float> randomVector(size_t count, float lo, float hi, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(count);
    for (float& f : v)
        f = dist(gen);
    return v;
}

} // namespace

class TestBackendVulkan : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void reportsVulkanDevice();
    void rejectsBadShapes();
    void rmsnormMatchesCpu_data();
    void rmsnormMatchesCpu();

private:
    moe::DeviceReport m_report;
    bool m_hasDevice = false;
    QString m_noDeviceReason;
    std::unique_ptr<moe::vulkan::Context> m_ctx;
};

void TestBackendVulkan::initTestCase() {
    m_report = moe::listDevices();
    for (const moe::DeviceInfo& d : m_report.devices) {
        if (d.backend == "vulkan") {
            m_hasDevice = true;
            qInfo("vulkan device %d: %s, %.1f GiB, %s", d.index, d.name.c_str(),
                  double(d.memoryBytes) / (1024.0 * 1024.0 * 1024.0), d.detail.c_str());
        }
    }
    for (const std::string& line : m_report.unavailable) {
        if (line.rfind("vulkan:", 0) == 0) m_noDeviceReason = QString::fromStdString(line);
    }
    if (!m_hasDevice) {
        qInfo("%s", qPrintable(m_noDeviceReason));
        return;
    }
    auto ctx = moe::vulkan::Context::create(0);
    QVERIFY2(ctx.isOk(), ctx.status().toString().c_str());
    m_ctx = std::move(ctx).value();
    qInfo("running on: %s", m_ctx->properties().deviceName);
}

void TestBackendVulkan::cleanupTestCase() {
    m_ctx.reset();
}

void TestBackendVulkan::reportsVulkanDevice() {
    const auto& built = m_report.builtBackends;
    QVERIFY(std::find(built.begin(), built.end(), "vulkan") != built.end());
    if (!m_hasDevice) QSKIP(qPrintable("no Vulkan device: " + m_noDeviceReason));
    for (const moe::DeviceInfo& d : m_report.devices) {
        if (d.backend != "vulkan") continue;
        QVERIFY(!d.name.empty());
        QVERIFY(d.memoryBytes > 0);
        QVERIFY2(d.detail.find("Vulkan 1.") != std::string::npos, d.detail.c_str());
    }
    QVERIFY(!moe::vulkan::Context::create(int(m_report.devices.size()) + 5).isOk());
}

void TestBackendVulkan::rejectsBadShapes() {
    if (!m_ctx) QSKIP(qPrintable("no Vulkan device: " + m_noDeviceReason));
    std::vector<float> x(6), w(3), y(6);
    const moe::Status wrongWeight =
        moe::vulkan::rmsnormF32(*m_ctx, x, std::span(w).first(2), y, 2, 3, 1e-6f);
    QCOMPARE(wrongWeight.code(), moe::StatusCode::InvalidArgument);
    const moe::Status wrongRows = moe::vulkan::rmsnormF32(*m_ctx, x, w, y, 3, 3, 1e-6f);
    QCOMPARE(wrongRows.code(), moe::StatusCode::InvalidArgument);
    const moe::Status zeroN = moe::vulkan::rmsnormF32(*m_ctx, {}, {}, {}, 2, 0, 1e-6f);
    QCOMPARE(zeroN.code(), moe::StatusCode::InvalidArgument);
    QVERIFY(moe::vulkan::rmsnormF32(*m_ctx, {}, w, {}, 0, 3, 1e-6f).isOk()); // no rows
}

void TestBackendVulkan::rmsnormMatchesCpu_data() {
    QTest::addColumn<qint64>("nRows");
    QTest::addColumn<qint64>("n");
    for (qint64 rows : {1, 3, 17}) {
        for (qint64 n : {1, 7, 33, 1000, 4097})
            QTest::addRow("rows%lld-n%lld", rows, n) << rows << n;
    }
    QTest::addRow("rows70000-n3: more rows than workgroups") << qint64(70000) << qint64(3);
}

void TestBackendVulkan::rmsnormMatchesCpu() {
    QFETCH(qint64, nRows);
    QFETCH(qint64, n);
    if (!m_ctx) QSKIP(qPrintable("no Vulkan device: " + m_noDeviceReason));
    const float eps = 1e-6f;
    const std::vector<float> x =
        randomVector(size_t(nRows * n), -2.0f, 2.0f, uint32_t(nRows * 131 + n));
    const std::vector<float> w = randomVector(size_t(n), 0.5f, 1.5f, uint32_t(n + 7));
    std::vector<float> y(x.size(), std::nanf(""));
    const moe::Status status = moe::vulkan::rmsnormF32(*m_ctx, x, w, y, nRows, n, eps);
    QVERIFY2(status.isOk(), status.toString().c_str());
    const double err = maxNormalizedError(y, referenceRmsnorm(x, w, nRows, n, eps));
    QVERIFY2(err <= kTolerance, qPrintable(QString("max normalized error %1").arg(err)));
}

QTEST_GUILESS_MAIN(TestBackendVulkan)
#include "test-backend-vulkan.moc"
