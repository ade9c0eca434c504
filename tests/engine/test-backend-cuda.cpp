// Qt Test for the CUDA backend v0: device query through listDevices(), argument checks, errors
// as Status without a device, and moe::cuda::rmsnormF32 against the CPU reference op
// (engine/ops/rmsnorm.cpp, through backend-op-check.h) on odd shapes, by max normalized error. Without a CUDA device the device cases QSKIP with the
// runtime's reason; run them on a GPU machine with tests/engine/run-gpu-backend-tests.sh.
#include "backends/cuda/cuda-ops.h"
#include "backend-op-check.h"
#include "moe/devices.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
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

private:
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

QTEST_GUILESS_MAIN(TestBackendCuda)
#include "test-backend-cuda.moc"
