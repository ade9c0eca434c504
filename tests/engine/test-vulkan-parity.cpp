// Logit parity with Hugging Face transformers through the Vulkan backend (issue 6): every
// tests/data/parity/<case> folder (a tiny random model saved by transformers, with the logits
// transformers computed in float32 on CPU: logits.npy, prompt ids in golden.json; made by
// tests/parity/make_goldens.py, see test-parity.cpp for how to remake them) is bound with its
// weights resident on a Vulkan device (bindFamily(weightSource, spec, vulkanBackend)) and run
//   (1) as one batch over the whole prompt, and
//   (2) token by token (decode on the KV cache, one forward per position),
// each position's logits within max|ours - ref| / max|ref| <= 1e-4 of the golden.
// The KV cache lives in Vulkan memory through DeviceKv below (pages of 4 rows in reversed physical
// order, so paging is exercised). Runs on lavapipe in CI; QSKIPs only without a Vulkan device.
#include "npy-reader.h"

#include "backends/backend.h"
#include "models/decoder.h"
#include "models/model-impl.h"
#include "moe/devices.h"
#include "moe/model.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace moe;

namespace {

constexpr float kTolerance = 1e-4f; // relative to max |ref| of the position, as test-parity

const char* const kCases[] = {
    "mixtral", "qwen2_moe",        "qwen3_moe",         "olmoe",       "llama",          "qwen2",
    "qwen3",   "deepseek_v2_lite", "deepseek_v2_group", "deepseek_v3", "deepseek_v3_noq"};

// A KV cache of one sequence in backend memory: per layer a pool of nPages pages of pageSize rows;
// logical page i is physical page nPages - 1 - i.
class DeviceKv final : public KvView {
public:
    Status init(ComputeBackend& be, int nLayer, KvGeometry g, int capacity) {
        m_capacity = capacity;
        const int nPages = (capacity + kPageSize - 1) / kPageSize;
        for (int i = 0; i < nPages; ++i)
            m_table.push_back(nPages - 1 - i);
        const size_t rows = size_t(nPages) * kPageSize;
        for (int il = 0; il < nLayer; ++il) {
            MOE_ASSIGN_OR_RETURN(BackendMemory k,
                                 be.allocate(rows * size_t(g.kDim) * sizeof(float)));
            m_k.push_back(std::move(k));
            if (g.vDim > 0) {
                MOE_ASSIGN_OR_RETURN(BackendMemory v,
                                     be.allocate(rows * size_t(g.vDim) * sizeof(float)));
                m_v.push_back(std::move(v));
            }
        }
        return Status::ok();
    }
    int pageSize() const override { return kPageSize; }
    int capacity() const override { return m_capacity; }
    float* layerK(int il) override { return m_k[size_t(il)].as<float>(); }
    float* layerV(int il) override { return m_v.empty() ? nullptr : m_v[size_t(il)].as<float>(); }
    const int32_t* pageTable(int) const override { return m_table.data(); }
    Status reserve(int, int n) override {
        return n <= m_capacity ? Status::ok()
                               : Status(StatusCode::OutOfMemory, "DeviceKv: capacity exceeded");
    }

private:
    static constexpr int kPageSize = 4;
    int m_capacity = 0;
    std::vector<int32_t> m_table;
    std::vector<BackendMemory> m_k, m_v;
};

// Worst position of max|a - b| / max|b| over rows of nVocab.
float worstRelative(const std::vector<float>& a, const float* b, size_t rows, size_t nVocab,
                    int& position) {
    float worst = -1;
    for (size_t p = 0; p < rows; ++p) {
        float d = 0, m = 0;
        for (size_t v = p * nVocab; v < (p + 1) * nVocab; ++v) {
            d = std::max(d, std::fabs(a[v] - b[v]));
            m = std::max(m, std::fabs(b[v]));
        }
        const float rel = m > 0 ? d / m : d;
        if (rel > worst) {
            worst = rel;
            position = int(p);
        }
    }
    return worst;
}

} // namespace

class TestVulkanParity : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void matchesTransformers_data();
    void matchesTransformers();

private:
    std::unique_ptr<ComputeBackend> m_vk;
    QString m_noDevice;
};

void TestVulkanParity::initTestCase() {
    const DeviceReport report = listDevices();
    for (const std::string& line : report.unavailable)
        if (line.rfind("vulkan:", 0) == 0) m_noDevice = QString::fromStdString(line);
    if (std::none_of(report.devices.begin(), report.devices.end(),
                     [](const DeviceInfo& d) { return d.backend == "vulkan"; }))
        return;
    auto vk = makeVulkanBackend(0);
    QVERIFY2(vk.isOk(), vk.status().message().c_str());
    m_vk = std::move(vk).value();
}

void TestVulkanParity::matchesTransformers_data() {
    QTest::addColumn<QString>("name");
    for (const char* c : kCases)
        QTest::newRow(c) << QString(c);
}

void TestVulkanParity::matchesTransformers() {
    QFETCH(QString, name);
    if (!m_vk) QSKIP(qPrintable("no Vulkan device: " + m_noDevice));
    const QString dir = QString(MOE_TEST_DATA_DIR) + "/parity/" + name;
    QFile f(dir + "/golden.json");
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(dir + "/golden.json: cannot open"));
    std::vector<int32_t> prompt;
    for (const QJsonValue v :
         QJsonDocument::fromJson(f.readAll()).object().value("prompt_ids").toArray())
        prompt.push_back(int32_t(v.toInt()));
    testing::NpyF32 golden;
    const std::string npyError = testing::readNpyF32((dir + "/logits.npy").toStdString(), golden);
    QVERIFY2(npyError.empty(), npyError.c_str());
    QVERIFY(!prompt.empty() && golden.shape.size() == 2 &&
            golden.shape[0] == int64_t(prompt.size()));
    const size_t nVocab = size_t(golden.shape[1]), nTok = prompt.size();

    auto model = Model::load(dir.toStdString());
    QVERIFY2(model.isOk(), model.status().message().c_str());
    const ModelSpec& spec = (*model)->spec();
    auto family = bindFamily(*(*model)->impl().weightSource, spec, *m_vk);
    QVERIFY2(family.isOk(), family.status().message().c_str());
    Workspace ws(*m_vk);
    ForwardContext ctx;
    ctx.ws = &ws;

    // (1) the whole prompt in one forward.
    DeviceKv batchCache;
    QVERIFY(batchCache.init(*m_vk, spec.nLayer, (*family)->kvGeometry(), int(nTok) + 4).isOk());
    std::vector<float> logits;
    const Status s = (*family)->forward(batchCache, prompt, 0, false, logits, ctx);
    QVERIFY2(s.isOk(), s.message().c_str());
    QCOMPARE(logits.size(), nTok * nVocab);
    int at = -1;
    const float batchRel = worstRelative(logits, golden.data.data(), nTok, nVocab, at);
    qInfo("%s batch: worst relative %g at position %d", qPrintable(name), double(batchRel), at);
    QVERIFY2(batchRel <= kTolerance,
             qPrintable(QString("batch logits differ at position %1: %2").arg(at).arg(batchRel)));

    // (2) token by token on a fresh cache.
    DeviceKv decodeCache;
    QVERIFY(decodeCache.init(*m_vk, spec.nLayer, (*family)->kvGeometry(), int(nTok) + 4).isOk());
    float decodeRel = 0;
    for (size_t t = 0; t < nTok; ++t) {
        std::vector<float> row;
        const Status d = (*family)->forward(decodeCache, std::span(prompt).subspan(t, 1), int(t),
                                            true, row, ctx);
        QVERIFY2(d.isOk(), d.message().c_str());
        int unused = 0;
        const float rel = worstRelative(row, golden.data.data() + t * nVocab, 1, nVocab, unused);
        decodeRel = std::max(decodeRel, rel);
        QVERIFY2(rel <= kTolerance,
                 qPrintable(QString("decode logits differ at position %1: %2").arg(t).arg(rel)));
    }
    qInfo("%s decode: worst relative %g over %zu positions", qPrintable(name), double(decodeRel),
          nTok);
}

QTEST_GUILESS_MAIN(TestVulkanParity)
#include "test-vulkan-parity.moc"
