// The Mixtral-style forward on the CPU: determinism, KV-cache decode equal to full recompute,
// chunked prefill, stored types (F16/BF16 against F32), routing counts, and bad tensors.
#include "core/half.h"
#include "models/model-impl.h"
#include "moe/model-factory.h"
#include "moe/session.h"
#include "runtime/kv-cache.h"

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace moe;

namespace {

float maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    float m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

float maxAbs(const std::vector<float>& a) {
    float m = 0;
    for (float x : a) m = std::max(m, std::fabs(x));
    return m;
}

} // namespace

class TestForward : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model;
    std::vector<int32_t> m_tokens;

    std::shared_ptr<const Model> makeModel(const std::string& type, const std::string& preset = "tiny") {
        const std::string path = (m_dir.path() + "/" + QString::fromStdString(preset + "-" + type) + ".gguf").toStdString();
        RandomModelOptions o;
        o.preset = preset;
        o.type = type;
        o.seed = 11;
        if (!writeRandomModel(o, path).isOk()) return nullptr;
        auto m = Model::load(path);
        return m.isOk() ? *m : nullptr;
    }

    std::vector<float> allLogits(const std::shared_ptr<const Model>& model, int nThreads = 0) {
        SessionOptions so;
        so.nThreads = nThreads;
        auto s = Session::create(model, so);
        auto l = (*s)->evaluate(m_tokens);
        return l.isOk() ? *l : std::vector<float>{};
    }

private slots:
    void initTestCase() {
        m_model = makeModel("f32");
        QVERIFY(m_model);
        m_tokens = m_model->tokenizer().encode("The experts route every token: 1+2=3.", true);
        QVERIFY(m_tokens.size() > 30);
    }

    void logitsAreFiniteAndNonTrivial() {
        std::vector<float> l = allLogits(m_model);
        QCOMPARE(l.size(), m_tokens.size() * size_t(m_model->spec().nVocab));
        for (float x : l) QVERIFY(std::isfinite(x));
        QVERIFY(maxAbs(l) > 0.1f);
        // Different positions give different distributions.
        const size_t v = size_t(m_model->spec().nVocab);
        std::vector<float> first(l.begin(), l.begin() + std::ptrdiff_t(v)), last(l.end() - std::ptrdiff_t(v), l.end());
        QVERIFY(maxAbsDiff(first, last) > 1e-3f);
    }

    void deterministicAcrossSessionsAndThreads() {
        std::vector<float> a = allLogits(m_model, 1), b = allLogits(m_model, 2), c = allLogits(m_model, 2);
        QCOMPARE(maxAbsDiff(b, c), 0.0f);
        QVERIFY(maxAbsDiff(a, b) <= 1e-5f * maxAbs(a)); // thread split does not change the math
    }

    void kvCacheDecodeEqualsFullRecompute() {
        std::vector<float> full = allLogits(m_model);
        auto s = Session::create(m_model);
        const size_t v = size_t(m_model->spec().nVocab);
        float worst = 0;
        for (size_t t = 0; t < m_tokens.size(); ++t) {
            auto l = (*s)->evaluate(std::span<const int32_t>(&m_tokens[t], 1));
            QVERIFY(l.isOk());
            std::vector<float> ref(full.begin() + std::ptrdiff_t(t * v), full.begin() + std::ptrdiff_t((t + 1) * v));
            worst = std::max(worst, maxAbsDiff(*l, ref));
        }
        qInfo("max |decode - full| = %g", double(worst));
        QVERIFY(worst <= 1e-5f);
    }

    void chunkedPrefillEqualsFull() {
        std::vector<float> full = allLogits(m_model);
        auto s = Session::create(m_model);
        const size_t v = size_t(m_model->spec().nVocab), half = m_tokens.size() / 2;
        auto a = (*s)->evaluate(std::span<const int32_t>(m_tokens.data(), half));
        auto b = (*s)->evaluate(std::span<const int32_t>(m_tokens.data() + half, m_tokens.size() - half), true);
        QVERIFY(a.isOk() && b.isOk());
        std::vector<float> lastRef(full.end() - std::ptrdiff_t(v), full.end());
        QVERIFY(maxAbsDiff(*b, lastRef) <= 1e-5f);
        QCOMPARE((*s)->position(), int(m_tokens.size()));
    }

    // The matmul reads F16/BF16 weights exactly as the F32 weights they round to.
    void halfWeightsMatchTheirF32Values() {
        const int rows = 7, cols = 19, nTok = 3;
        std::vector<float> w32(rows * cols), x(nTok * cols);
        std::vector<uint16_t> w16(w32.size()), wbf(w32.size());
        for (size_t i = 0; i < w32.size(); ++i) {
            const float v = std::sin(float(i) * 0.7f) * 3.0f;
            w16[i] = f32ToF16(v);
            wbf[i] = f32ToBf16(v);
        }
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(float(i));
        for (auto [bits, type] : {std::pair{&w16, ops::WeightType::F16}, std::pair{&wbf, ops::WeightType::BF16}}) {
            for (size_t i = 0; i < w32.size(); ++i)
                w32[i] = type == ops::WeightType::F16 ? f16ToF32((*bits)[i]) : bf16ToF32((*bits)[i]);
            std::vector<float> yHalf(nTok * rows), y32(nTok * rows);
            ops::matmul(x.data(), nTok, {bits->data(), type, rows, cols}, yHalf.data(), nullptr);
            ops::matmul(x.data(), nTok, {w32.data(), ops::WeightType::F32, rows, cols}, y32.data(), nullptr);
            QCOMPARE(maxAbsDiff(yHalf, y32), 0.0f);
        }
    }

    // Whole models stored in F16/BF16 run and stay close to F32 where routing agrees; routing is
    // discontinuous (a rounded weight can flip an expert choice), so the check is on the median.
    void halfModelsRun() {
        std::vector<float> ref = allLogits(m_model);
        const size_t v = size_t(m_model->spec().nVocab);
        for (const char* type : {"f16", "bf16"}) {
            auto m = makeModel(type);
            QVERIFY(m);
            std::vector<float> l = allLogits(m);
            QCOMPARE(l.size(), ref.size());
            std::vector<float> rel;
            for (size_t t = 0; t < m_tokens.size(); ++t) {
                std::vector<float> a(l.begin() + std::ptrdiff_t(t * v), l.begin() + std::ptrdiff_t((t + 1) * v));
                std::vector<float> b(ref.begin() + std::ptrdiff_t(t * v), ref.begin() + std::ptrdiff_t((t + 1) * v));
                rel.push_back(maxAbsDiff(a, b) / maxAbs(b));
            }
            std::nth_element(rel.begin(), rel.begin() + std::ptrdiff_t(rel.size() / 2), rel.end());
            const float median = rel[rel.size() / 2];
            qInfo("%s: median per-position rel error vs f32 %g", type, double(median));
            QVERIFY(median < (std::string(type) == "f16" ? 1e-2f : 1e-1f));
        }
    }

    void routingCountsCoverEveryToken() {
        const ModelImpl& impl = m_model->impl();
        const ModelSpec& s = impl.info.spec;
        auto backend = makeCpuBackend(1);
        Workspace ws(*backend);
        KvCache cache;
        const KvGeometry kv = impl.forward->kvGeometry();
        QVERIFY(cache.init(*backend, s.nLayer, 128, kv.kDim, kv.vDim).isOk());
        std::vector<float> logits;
        RoutingCounts rc;
        ForwardContext ctx;
        ctx.ws = &ws;
        ctx.routing = &rc;
        QVERIFY(impl.forward->forward(cache, m_tokens, 0, true, logits, ctx).isOk());
        for (int il = 0; il < s.nLayer; ++il) {
            int64_t sum = 0;
            int used = 0;
            for (int e = 0; e < s.nExpert; ++e) {
                sum += rc.counts[size_t(il * s.nExpert + e)];
                used += rc.counts[size_t(il * s.nExpert + e)] > 0;
            }
            QCOMPARE(sum, int64_t(m_tokens.size()) * s.nExpertUsed);
            double weights = 0; // Mixtral renormalizes: each token's weights sum to 1
            for (int e = 0; e < s.nExpert; ++e) weights += rc.weightSums[size_t(il * s.nExpert + e)];
            QVERIFY(std::fabs(weights - double(m_tokens.size())) < 1e-4);
            QVERIFY(used >= 2); // random routers spread tokens over experts
        }
    }

    void rejectsBadInput() {
        auto s = Session::create(m_model);
        const int32_t bad[] = {0, 99999};
        auto l = (*s)->evaluate(bad);
        QVERIFY(!l.isOk());
        QVERIFY(l.status().message().find("99999") != std::string::npos);
        SessionOptions small;
        small.nCtx = 8;
        auto s2 = Session::create(m_model, small);
        auto l2 = (*s2)->evaluate(m_tokens);
        QVERIFY(!l2.isOk());
        QVERIFY(l2.status().message().find("context") != std::string::npos);
        SessionOptions badDevice;
        for (const char* device : {"tpu", "cuda:99", "vulkan:x"}) {
            badDevice.device = device;
            auto created = Session::create(m_model, badDevice);
            QVERIFY(!created.isOk());
            QVERIFY(created.status().message().find(device) != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestForward)
#include "test-forward.moc"
