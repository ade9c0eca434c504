// Qt Test for the Vulkan backend v0: device query through listDevices(), argument checks, and
// moe::vulkan::rmsnormF32 (shaders/rmsnorm.comp) against the CPU reference op
// (engine/ops/rmsnorm.cpp, through backend-op-check.h) on odd shapes, by max normalized error. Runs on any Vulkan device, lavapipe included (that is how it runs on
// machines without a GPU); QSKIPs with the loader's reason only when there is no device at all.
#include "backends/vulkan/vulkan-ops.h"
#include "backend-op-check.h"
#include "moe/devices.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr double kTolerance = 1e-5;

using backend_check::maxNormalizedError;
using backend_check::randomVector;
using backend_check::referenceRmsnorm;

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
