// The training forward and backward of every family (engine/models/train-*.cpp), on the tiny
// transformers-made models of tests/data/parity:
//   - the training forward's logits equal transformers' golden logits (so training starts from
//     the model inference runs and transformers defines);
//   - full fine-tuning: the gradient of every parameter tensor agrees with the central finite
//     difference of the loss along that gradient (L(θ + εg) - L(θ - εg)) / 2ε ≈ |g|²;
//   - LoRA (B made non-zero), ESFT (only the chosen experts get parameters) the same way;
//   - checkpointed and plain backward give identical gradients; gradient accumulation over two
//     micro-batches equals one batch of both.
#include "npy-reader.h"

#include "core/thread-pool.h"
#include "models/model-impl.h"
#include "models/train-model.h"
#include "training/peft-adapter.h"
#include "moe/model.h"
#include "moe/quantize.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <map>
#include <random>

using namespace moe;
using namespace moe::train;

namespace {

constexpr double kStep = 1e-3;

const char* const kCases[] = {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "llama", "qwen2", "qwen3",
                              "deepseek_v2_lite", "deepseek_v2_group", "deepseek_v3", "deepseek_v3_noq"};

QString caseDir(const char* name) {
    return QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/" + name;
}

std::vector<int32_t> promptOf(const QString& dir) {
    QFile f(dir + "/golden.json");
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::vector<int32_t> ids;
    for (const QJsonValue v : QJsonDocument::fromJson(f.readAll()).object().value("prompt_ids").toArray())
        ids.push_back(int32_t(v.toInt()));
    return ids;
}

// Two sequences from the prompt: all of it (labels = tokens, first two ignored) and its tail.
struct Batch {
    std::vector<int32_t> t1, l1, t2, l2;
    std::vector<TrainSequence> seqs() const { return {{t1, l1}, {t2, l2}}; }
};

Batch makeBatch(const std::vector<int32_t>& prompt) {
    Batch b;
    b.t1 = prompt;
    b.l1 = prompt;
    b.l1[0] = b.l1[1] = -100;
    b.t2.assign(prompt.begin() + long(prompt.size() / 2), prompt.end());
    b.l2 = b.t2;
    return b;
}

double loss(TrainModel& m, const Batch& b, ThreadPool& pool, std::map<const void*, std::vector<int32_t>>* routes) {
    TrainContext ctx;
    ctx.pool = &pool;
    ctx.routing = TrainContext::Routing::Replay;
    ctx.routes = routes;
    auto seqs = b.seqs();
    auto r = m.step(seqs, 0, false, false, ctx);
    return r.isOk() ? r->lossSum / double(r->counted) : NAN;
}

// Checks every param's gradient along itself against central differences of the mean loss.
void checkGradients(TrainModel& m, const Batch& b, ThreadPool& pool, const char* what) {
    TrainContext ctx;
    ctx.pool = &pool;
    auto seqs = b.seqs();
    for (Param* p : m.params())
        p->zeroGrad();
    // Expert choices held fixed (they are piecewise constant; the gradient is of the piece).
    std::map<const void*, std::vector<int32_t>> routes;
    ctx.routing = TrainContext::Routing::Record;
    ctx.routes = &routes;
    auto r = m.step(seqs, 0, true, false, ctx);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    int checked = 0;
    for (Param* p : m.params()) {
        double g2 = 0;
        for (float g : p->grad)
            g2 += double(g) * double(g);
        if (g2 < 1e-14) continue; // (a LoRA A with B = 0, an expert no token chose)
        const std::vector<float> saved = p->value;
        const double eps = kStep / std::sqrt(g2); // a step of kStep in parameter norm
        for (size_t i = 0; i < saved.size(); ++i)
            p->value[i] = saved[i] + float(eps) * p->grad[i];
        const double up = loss(m, b, pool, &routes);
        for (size_t i = 0; i < saved.size(); ++i)
            p->value[i] = saved[i] - float(eps) * p->grad[i];
        const double down = loss(m, b, pool, &routes);
        p->value = saved;
        const double fd = (up - down) / (2 * eps);
        const double rel = std::abs(fd - g2) / g2;
        if (rel > 3e-2)
            QFAIL(qPrintable(QString("%1: %2: directional derivative %3 vs |g|^2 %4 (rel %5)")
                                 .arg(what, p->name.c_str()).arg(fd).arg(g2).arg(rel)));
        ++checked;
    }
    QVERIFY2(checked > 0, what);
}

} // namespace

class TestTrainModel : public QObject {
    Q_OBJECT

private slots:
    void logitsMatchTransformers_data() {
        QTest::addColumn<QString>("name");
        for (const char* c : kCases)
            QTest::newRow(c) << QString(c);
    }
    void logitsMatchTransformers() {
        QFETCH(QString, name);
        checkLogits(caseDir(name.toUtf8().constData()), caseDir(name.toUtf8().constData()).toStdString());
    }

    // The same from the GGUF conversion (DeepSeek's kv_b rebuilt from attn_k_b/attn_v_b, llama's
    // permuted q/k rows).
    void logitsMatchTransformersOnGguf_data() { logitsMatchTransformers_data(); }
    void logitsMatchTransformersOnGguf() {
        QFETCH(QString, name);
        QTemporaryDir tmp;
        const std::string gguf = tmp.filePath("m.gguf").toStdString();
        auto c = convertHfFolder(caseDir(name.toUtf8().constData()).toStdString(), gguf);
        QVERIFY2(c.isOk(), c.status().message().c_str());
        checkLogits(caseDir(name.toUtf8().constData()), gguf);
    }

    // Full fine-tuning binds every weight under its HF name: from the GGUF conversion (stacked
    // experts, split kv_b, permuted llama q/k rows brought back by reorderRopeRows) they equal the
    // HF folder's.
    void ggufBindsTheSameWeights_data() { logitsMatchTransformers_data(); }
    void ggufBindsTheSameWeights() {
        QFETCH(QString, name);
        QTemporaryDir tmp;
        const std::string gguf = tmp.filePath("m.gguf").toStdString();
        QVERIFY(convertHfFolder(caseDir(name.toUtf8().constData()).toStdString(), gguf).isOk());
        auto hf = Model::load(caseDir(name.toUtf8().constData()).toStdString());
        auto gg = Model::load(gguf);
        QVERIFY(hf.isOk() && gg.isOk());
        TrainTargets t;
        t.full = true;
        auto a = TrainModel::bind((*hf)->impl(), t);
        auto b = TrainModel::bind((*gg)->impl(), t);
        QVERIFY(a.isOk() && b.isOk());
        std::map<std::string, std::vector<float>> ref;
        for (Param* p : (*a)->params())
            ref[p->name] = p->value;
        QCOMPARE((*b)->params().size(), (*a)->params().size());
        for (Param* p : (*b)->params()) {
            QVERIFY2(ref.count(p->name), p->name.c_str());
            std::vector<float> v = p->value;
            reorderRopeRows((*b)->spec(), p->name, v, true);
            QVERIFY2(v == ref[p->name], p->name.c_str());
        }
    }

private:
    void checkLogits(const QString& dir, const std::string& modelPath) {
        auto model = Model::load(modelPath);
        QVERIFY2(model.isOk(), model.status().message().c_str());
        TrainTargets t;
        t.loraRank = 4; // B = 0: the same function as the base model
        t.loraModules = {"all-linear"};
        auto tm = TrainModel::bind((*model)->impl(), t);
        QVERIFY2(tm.isOk(), tm.status().message().c_str());
        const std::vector<int32_t> prompt = promptOf(dir);
        QVERIFY(!prompt.empty());
        const std::vector<int32_t> labels(prompt.size(), -100);
        ThreadPool pool(2);
        TrainContext ctx;
        ctx.pool = &pool;
        const std::vector<TrainSequence> seqs = {{prompt, labels}};
        auto logits = (*tm)->logits(seqs, ctx);
        QVERIFY2(logits.isOk(), logits.status().message().c_str());
        testing::NpyF32 ref;
        QVERIFY(testing::readNpyF32((dir + "/logits.npy").toStdString(), ref).empty());
        const int64_t V = (*model)->spec().nVocab;
        QCOMPARE(int64_t(logits->size()), int64_t(prompt.size()) * V);
        for (size_t t0 = 0; t0 < prompt.size(); ++t0) {
            float maxRef = 0, maxDiff = 0;
            for (int64_t v = 0; v < V; ++v) {
                const float r = ref.data[t0 * size_t(V) + size_t(v)];
                maxRef = std::max(maxRef, std::abs(r));
                maxDiff = std::max(maxDiff, std::abs(r - (*logits)[t0 * size_t(V) + size_t(v)]));
            }
            QVERIFY2(maxDiff <= 1e-4f * maxRef, qPrintable(QString("position %1: %2").arg(t0).arg(maxDiff / maxRef)));
        }
    }

private slots:
    void fullGradients_data() { logitsMatchTransformers_data(); }
    void fullGradients() {
        QFETCH(QString, name);
        const QString dir = caseDir(name.toUtf8().constData());
        auto model = Model::load(dir.toStdString());
        QVERIFY(model.isOk());
        TrainTargets t;
        t.full = true;
        auto tm = TrainModel::bind((*model)->impl(), t);
        QVERIFY2(tm.isOk(), tm.status().message().c_str());
        // Everything but the selection biases (e_score_correction_bias: not trained, as in HF).
        int64_t selectionBias = 0;
        for (const TensorInfo& ti : (*model)->info().tensors)
            if (ti.name.find("exp_probs_b") != std::string::npos || ti.name.find("e_score_correction") != std::string::npos)
                selectionBias += int64_t(ti.elements());
        QCOMPARE((*tm)->trainableCount() + selectionBias, int64_t((*model)->info().parameterCount));
        ThreadPool pool(2);
        checkGradients(**tm, makeBatch(promptOf(dir)), pool, qPrintable(name));
    }

    void loraGradients_data() { logitsMatchTransformers_data(); }
    void loraGradients() {
        QFETCH(QString, name);
        const QString dir = caseDir(name.toUtf8().constData());
        auto model = Model::load(dir.toStdString());
        QVERIFY(model.isOk());
        TrainTargets t;
        t.loraRank = 3;
        t.loraAlpha = 6;
        t.loraModules = {"all-linear"};
        auto tm = TrainModel::bind((*model)->impl(), t);
        QVERIFY2(tm.isOk(), tm.status().message().c_str());
        std::mt19937 rng(7);
        std::normal_distribution<float> n(0.0f, 0.05f);
        for (Param* p : (*tm)->params())
            if (p->name.find("lora_B") != std::string::npos)
                for (float& x : p->value)
                    x = n(rng);
        ThreadPool pool(2);
        checkGradients(**tm, makeBatch(promptOf(dir)), pool, qPrintable(name));
    }

    void esftTrainsOnlyChosenExperts() {
        const QString dir = caseDir("deepseek_v2_lite");
        auto model = Model::load(dir.toStdString());
        QVERIFY(model.isOk());
        const ModelSpec& s = (*model)->spec();
        TrainTargets t;
        const int il = s.firstKDenseReplace; // the first MoE layer
        t.esftExperts[il] = {0, 2};
        auto tm = TrainModel::bind((*model)->impl(), t);
        QVERIFY2(tm.isOk(), tm.status().message().c_str());
        QCOMPARE(int((*tm)->params().size()), 6);
        for (Param* p : (*tm)->params())
            QVERIFY2(p->name.find("model.layers." + std::to_string(il) + ".mlp.experts.") == 0, p->name.c_str());
        ThreadPool pool(2);
        checkGradients(**tm, makeBatch(promptOf(dir)), pool, "esft");

        t.esftExperts = {{il, {s.nExpert}}};
        QVERIFY(!TrainModel::bind((*model)->impl(), t).isOk());
        t.esftExperts = {{-1, {0}}};
        QVERIFY(!TrainModel::bind((*model)->impl(), t).isOk());
        TrainTargets none;
        none.loraRank = 4;
        none.loraModules = {"no_such_proj"};
        auto bad = TrainModel::bind((*model)->impl(), none);
        QVERIFY(!bad.isOk());
        QVERIFY(bad.status().message().find("no_such_proj") != std::string::npos);
    }

    void checkpointingAndAccumulation() {
        const QString dir = caseDir("qwen2_moe");
        auto model = Model::load(dir.toStdString());
        QVERIFY(model.isOk());
        TrainTargets t;
        t.full = true;
        auto tm = TrainModel::bind((*model)->impl(), t);
        QVERIFY(tm.isOk());
        ThreadPool pool(2);
        TrainContext ctx;
        ctx.pool = &pool;
        const Batch b = makeBatch(promptOf(dir));
        auto seqs = b.seqs();
        auto grads = [&](bool checkpoint, bool split) {
            for (Param* p : (*tm)->params())
                p->zeroGrad();
            if (!split) {
                (void)(*tm)->step(seqs, 0, true, checkpoint, ctx);
            } else {
                const int64_t total = int64_t(b.t1.size() - 2 + b.t2.size() - 1);
                (void)(*tm)->step(std::span(seqs).subspan(0, 1), total, true, checkpoint, ctx);
                (void)(*tm)->step(std::span(seqs).subspan(1, 1), total, true, checkpoint, ctx);
            }
            std::vector<float> all;
            for (Param* p : (*tm)->params())
                all.insert(all.end(), p->grad.begin(), p->grad.end());
            return all;
        };
        const std::vector<float> plain = grads(false, false);
        QVERIFY(plain == grads(true, false)); // recomputation is bit-identical
        const std::vector<float> accumulated = grads(false, true);
        double maxDiff = 0, maxAbs = 0;
        for (size_t i = 0; i < plain.size(); ++i) {
            maxDiff = std::max(maxDiff, double(std::abs(plain[i] - accumulated[i])));
            maxAbs = std::max(maxAbs, double(std::abs(plain[i])));
        }
        QVERIFY2(maxDiff <= 1e-5 * maxAbs, qPrintable(QString::number(maxDiff / maxAbs)));
    }
};

QTEST_GUILESS_MAIN(TestTrainModel)
#include "test-train-model.moc"
