// End-to-end parity of the CUDA backend (issue 5): every tests/data/parity/<case> folder (tiny
// random models that Hugging Face transformers built, 11 architectures; see test-parity.cpp for
// how the goldens were made) is loaded, its family bound with the weights resident on the CUDA
// backend (bindFamily with makeCudaBackend), and the prompt's all-position logits computed on the
// GPU (a KV cache in device memory, a Workspace on the backend) are compared with transformers'
// float32 logits.npy: max |ours - ref| / max |ref| per position <= 1e-4, the tolerance of
// test-parity on the CPU. The prompt is also run as a prefill of all but the last token and a
// one-token decode, whose logits must match the last golden row; the per-token routing of every
// MoE layer must equal the CPU backend's (ids exactly). Label gpu: skips with the
// runtime's reason where no CUDA device is usable.
#include "npy-reader.h"

#include "backends/backend.h"
#include "models/decoder.h"
#include "models/model-impl.h"
#include "moe/model.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

using namespace moe;

namespace {

constexpr float kTolerance = 1e-4f;

const char* const kCases[] = {
    "mixtral", "qwen2_moe",        "qwen3_moe",         "olmoe",       "llama",          "qwen2",
    "qwen3",   "deepseek_v2_lite", "deepseek_v2_group", "deepseek_v3", "deepseek_v3_noq"};

// One sequence's paged cache in backend memory: pages handed out in reverse order, so the paging
// is exercised.
class DeviceKv final : public KvView {
public:
    Status init(ComputeBackend& be, int nLayer, int capacity, KvGeometry g) {
        m_capacity = capacity;
        const int pages = (capacity + kPage - 1) / kPage;
        m_rows = size_t(pages) * kPage;
        m_kDim = g.kDim;
        m_vDim = g.vDim;
        MOE_ASSIGN_OR_RETURN(m_k, be.allocate(m_rows * size_t(nLayer) * size_t(g.kDim) * sizeof(float)));
        if (g.vDim > 0) {
            MOE_ASSIGN_OR_RETURN(m_v, be.allocate(m_rows * size_t(nLayer) * size_t(g.vDim) * sizeof(float)));
        }
        for (int p = 0; p < pages; ++p) m_table.push_back(pages - 1 - p);
        return Status::ok();
    }
    int pageSize() const override { return kPage; }
    int capacity() const override { return m_capacity; }
    float* layerK(int il) override { return m_k.as<float>() + size_t(il) * m_rows * size_t(m_kDim); }
    float* layerV(int il) override {
        return m_vDim == 0 ? nullptr : m_v.as<float>() + size_t(il) * m_rows * size_t(m_vDim);
    }
    const int32_t* pageTable(int) const override { return m_table.data(); }
    Status reserve(int, int n) override {
        return n <= m_capacity ? Status::ok() : Status(StatusCode::InvalidArgument, "DeviceKv: over capacity");
    }

private:
    static constexpr int kPage = 4;
    int m_capacity = 0, m_kDim = 0, m_vDim = 0;
    size_t m_rows = 0;
    BackendMemory m_k, m_v;
    std::vector<int32_t> m_table;
};

// Per position: max |a - b| / max |b| over the row; the worst.
float worstRow(const std::vector<float>& a, const float* b, size_t rows, size_t nVocab, int& at) {
    float worst = 0;
    at = 0;
    for (size_t p = 0; p < rows; ++p) {
        float d = 0, m = 0;
        for (size_t v = 0; v < nVocab; ++v) {
            d = std::max(d, std::fabs(a[p * nVocab + v] - b[p * nVocab + v]));
            m = std::max(m, std::fabs(b[p * nVocab + v]));
        }
        const float rel = m > 0 ? d / m : d;
        if (rel > worst) {
            worst = rel;
            at = int(p);
        }
    }
    return worst;
}

} // namespace

class TestCudaParity : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        auto b = makeCudaBackend(0);
        if (b.isOk())
            m_gpu = std::move(b).value();
        else
            m_reason = QString::fromStdString(b.status().toString());
    }
    void logitsMatchTransformers_data() {
        QTest::addColumn<QString>("name");
        for (const char* c : kCases) QTest::newRow(c) << QString(c);
    }
    void logitsMatchTransformers() {
        QFETCH(QString, name);
        if (!m_gpu) QSKIP(qPrintable("no CUDA device: " + m_reason));
        const QString dir = QString(MOE_TEST_DATA_DIR) + "/parity/" + name;
        QFile f(dir + "/golden.json");
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(dir + "/golden.json: cannot open"));
        std::vector<int32_t> prompt;
        for (const QJsonValue v : QJsonDocument::fromJson(f.readAll()).object().value("prompt_ids").toArray())
            prompt.push_back(int32_t(v.toInt()));
        testing::NpyF32 golden;
        const std::string err = testing::readNpyF32((dir + "/logits.npy").toStdString(), golden);
        QVERIFY2(err.empty(), err.c_str());
        auto model = Model::load(dir.toStdString());
        QVERIFY2(model.isOk(), model.status().toString().c_str());
        const ModelImpl& impl = (*model)->impl();
        const ModelSpec& spec = (*model)->spec();
        auto fam = bindFamily(*impl.weightSource, spec, *m_gpu);
        QVERIFY2(fam.isOk(), fam.status().toString().c_str());
        const int nTok = int(prompt.size());
        const size_t nVocab = size_t(spec.nVocab);
        QCOMPARE(golden.data.size(), size_t(nTok) * nVocab);

        DeviceKv kv;
        Status s = kv.init(*m_gpu, spec.nLayer, nTok + 8, (*fam)->kvGeometry());
        QVERIFY2(s.isOk(), s.toString().c_str());
        Workspace ws(*m_gpu);
        ForwardContext ctx;
        ctx.ws = &ws;
        RoutingCounts routing;
        routing.perToken = true;
        ctx.routing = &routing;
        std::vector<float> logits;
        s = (*fam)->forward(kv, prompt, 0, false, logits, ctx);
        QVERIFY2(s.isOk(), s.toString().c_str());
        ctx.routing = nullptr;

        // The routing of every MoE layer equals the CPU backend's (ids exactly, weights to 1e-5).
        auto cpu = makeCpuBackend(2);
        auto cpuFam = bindFamily(*impl.weightSource, spec, *cpu);
        QVERIFY2(cpuFam.isOk(), cpuFam.status().toString().c_str());
        DeviceKv cpuKv;
        QVERIFY(cpuKv.init(*cpu, spec.nLayer, nTok + 8, (*cpuFam)->kvGeometry()).isOk());
        Workspace cpuWs(*cpu);
        ForwardContext cpuCtx;
        cpuCtx.ws = &cpuWs;
        RoutingCounts cpuRouting;
        cpuRouting.perToken = true;
        cpuCtx.routing = &cpuRouting;
        std::vector<float> cpuLogits;
        QVERIFY((*cpuFam)->forward(cpuKv, prompt, 0, false, cpuLogits, cpuCtx).isOk());
        QCOMPARE(routing.tokenIds.size(), cpuRouting.tokenIds.size());
        for (size_t i = 0; i < routing.tokenIds.size(); ++i) {
            const int kk = std::max(routing.k, 1);
            const QString where = QString("layer %1 token %2 slot %3: cuda %4 (%5), cpu %6 (%7)")
                                      .arg(i / (size_t(nTok) * size_t(kk)))
                                      .arg((i / size_t(kk)) % size_t(nTok))
                                      .arg(i % size_t(kk))
                                      .arg(routing.tokenIds[i])
                                      .arg(routing.tokenWeights[i])
                                      .arg(cpuRouting.tokenIds[i])
                                      .arg(cpuRouting.tokenWeights[i]);
            QVERIFY2(routing.tokenIds[i] == cpuRouting.tokenIds[i], qPrintable("routing differs at " + where));
            QVERIFY2(std::fabs(routing.tokenWeights[i] - cpuRouting.tokenWeights[i]) <= 1e-5f,
                     qPrintable("routing weight differs at " + where));
        }
        int atCpu = 0;
        qInfo("%s: cuda vs cpu backend %.3g, cpu backend vs transformers %.3g", qPrintable(name),
              double(worstRow(logits, cpuLogits.data(), size_t(nTok), nVocab, atCpu)),
              double(worstRow(cpuLogits, golden.data.data(), size_t(nTok), nVocab, atCpu)));
        int at = 0;
        const float worst = worstRow(logits, golden.data.data(), size_t(nTok), nVocab, at);
        qInfo("%s on %s: %d positions, worst max|diff|/max|ref| = %.3g at position %d", qPrintable(name),
              m_gpu->name().c_str(), nTok, double(worst), at);
        QVERIFY2(worst <= kTolerance, qPrintable(QString("prefill: %1 at position %2").arg(worst).arg(at)));

        // Prefill all but the last token, then decode it on the cache.
        std::vector<float> last;
        s = (*fam)->forward(kv, std::span(prompt).first(size_t(nTok - 1)), 0, true, last, ctx);
        QVERIFY2(s.isOk(), s.toString().c_str());
        s = (*fam)->forward(kv, std::span(prompt).last(1), nTok - 1, true, last, ctx);
        QVERIFY2(s.isOk(), s.toString().c_str());
        const float worstDecode = worstRow(last, golden.data.data() + size_t(nTok - 1) * nVocab, 1, nVocab, at);
        qInfo("%s decode of the last token: %.3g", qPrintable(name), double(worstDecode));
        QVERIFY2(worstDecode <= kTolerance, qPrintable(QString("decode: %1").arg(worstDecode)));
    }
    void cleanupTestCase() { m_gpu.reset(); }

private:
    std::unique_ptr<ComputeBackend> m_gpu;
    QString m_reason;
};

QTEST_GUILESS_MAIN(TestCudaParity)
#include "test-cuda-parity.moc"
