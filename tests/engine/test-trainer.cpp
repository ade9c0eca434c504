// The fine-tuning run (moe/training.h) end to end on tiny random models with the byte tokenizer:
// LoRA, ESFT (experts scored from the data) and full fine-tuning lower the loss of a learnable
// text; a run stopped and resumed from its checkpoint computes the same losses, bit for bit, as
// the uninterrupted run; the saved PEFT adapter loads back with the same values and gives the
// gradients of adapterGradients; malformed configs are refused naming the field.
#include "moe/model-factory.h"
#include "moe/training.h"

#include "training/peft-adapter.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace moe;

namespace {

std::string writeText(const QTemporaryDir& dir, const char* name, const std::string& text) {
    const std::string path = dir.filePath(name).toStdString();
    std::ofstream(path) << text;
    return path;
}

// A text with a pattern a small model learns in a few steps.
std::string corpus() {
    std::string out;
    const char* words[] = {"red apple", "blue sky", "green leaf", "gold coin"};
    for (int i = 0; i < 48; ++i)
        out += std::string("{\"text\": \"the ") + words[i % 4] + " is " + words[(i + 1) % 4] + "\"}\n";
    return out;
}

TrainingConfig baseConfig(const std::string& data) {
    TrainingConfig c;
    c.datasetPath = data;
    c.maxSeqLen = 32;
    c.batchTokens = 256;
    c.learningRate = 1e-2;
    c.schedule = "constant";
    c.maxGradNorm = 1.0;
    c.threads = 2;
    c.epochs = 50; // maxSteps ends the runs
    return c;
}

std::vector<double> runLosses(TrainingRun& r, int stopAfter = -1) {
    std::vector<double> losses;
    (void)r.run([&](const TrainingProgress& p) {
        losses.push_back(p.loss);
        return stopAfter < 0 || p.step < stopAfter;
    });
    return losses;
}

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model;
    std::string m_data;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        RandomModelOptions o;
        o.arch = "deepseek2";
        o.preset = "tiny";
        o.seed = 3;
        const std::string path = m_dir.filePath("tiny.gguf").toStdString();
        QVERIFY(writeRandomModel(o, path).isOk());
        auto m = Model::load(path);
        QVERIFY2(m.isOk(), m.status().message().c_str());
        m_model = *m;
        m_data = writeText(m_dir, "data.jsonl", corpus());
    }

    void loraLowersLossAndRoundTrips() {
        TrainingConfig c = baseConfig(m_data);
        c.loraRank = 8;
        c.loraAlpha = 16;
        c.targetModules = {"all-linear"};
        c.maxSteps = 24;
        c.outputDir = m_dir.filePath("lora").toStdString();
        auto r = TrainingRun::create(m_model, c);
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QVERIFY((*r)->trainableParameters() > 0);
        QVERIFY((*r)->summary().find("trainable parameters") != std::string::npos);
        auto before = (*r)->evaluate(false);
        QVERIFY(before.isOk());
        const auto losses = runLosses(**r);
        QCOMPARE(int(losses.size()), 24);
        auto after = (*r)->evaluate(false);
        QVERIFY(after.isOk());
        QVERIFY2(*after < 0.7 * *before, qPrintable(QString("loss %1 -> %2").arg(*before).arg(*after)));

        // The PEFT adapter: config + tensors, loaded back with the trained values.
        auto adapter = train::loadPeftAdapter(c.outputDir + "/adapter");
        QVERIFY2(adapter.isOk(), adapter.status().message().c_str());
        QCOMPARE(adapter->targets.loraRank, 8);
        QCOMPARE(adapter->targets.loraAlpha, 16.0f);
        QVERIFY(!adapter->tensors.empty());
        // Gradients through the saved adapter: a finite loss over counted positions, one gradient
        // per adapter tensor.
        std::vector<int32_t> tokens = m_model->tokenizer().encode("the red apple is blue sky", false);
        std::vector<int32_t> labels = tokens;
        labels[0] = -100;
        auto g = adapterGradients(m_model, c.outputDir + "/adapter", tokens, labels, 1, int(tokens.size()));
        QVERIFY2(g.isOk(), g.status().message().c_str());
        QCOMPARE(g->gradients.size(), adapter->tensors.size());
        QCOMPARE(g->counted, int64_t(tokens.size() - 1)); // labels[1..] (shifted), label 0 never a target
        QVERIFY(std::isfinite(g->loss) && g->loss > 0);
    }

    void resumeIsExact() {
        TrainingConfig c = baseConfig(m_data);
        c.loraRank = 4;
        c.loraDropout = 0.1f; // masks are a function of (seed, step): resumed runs draw the same
        c.targetModules = {"q_proj", "kv_b_proj", "o_proj"};
        c.maxSteps = 8;
        c.gradientAccumulation = 2;
        c.schedule = "cosine";
        c.warmupSteps = 2;
        c.checkpointEvery = 4;
        c.outputDir = m_dir.filePath("whole").toStdString();
        auto whole = TrainingRun::create(m_model, c);
        QVERIFY(whole.isOk());
        const auto all = runLosses(**whole);
        QCOMPARE(int(all.size()), 8);

        c.outputDir = m_dir.filePath("part").toStdString();
        auto first = TrainingRun::create(m_model, c);
        QVERIFY(first.isOk());
        const auto head = runLosses(**first, 3); // cancelled after step 3 (a checkpoint at 3)
        QCOMPARE(int(head.size()), 3);
        auto second = TrainingRun::create(m_model, c);
        QVERIFY(second.isOk());
        QVERIFY((*second)->resume(c.outputDir + "/checkpoints/step-3").isOk());
        QCOMPARE((*second)->step(), 3);
        const auto tail = runLosses(**second);
        QCOMPARE(int(tail.size()), 5);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(head[size_t(i)], all[size_t(i)]);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(tail[size_t(i)], all[size_t(3 + i)]);
        // A checkpoint of another method is refused.
        c.method = TrainingMethod::Full;
        auto other = TrainingRun::create(m_model, c);
        QVERIFY(other.isOk());
        QVERIFY(!(*other)->resume(c.outputDir + "/checkpoints/step-3").isOk());
    }

    void esftSelectsAndTrainsExperts() {
        TrainingConfig c = baseConfig(m_data);
        c.method = TrainingMethod::Esft;
        c.esftThreshold = 0.3;
        c.maxSteps = 12;
        c.learningRate = 5e-3;
        c.outputDir = m_dir.filePath("esft").toStdString();
        auto r = TrainingRun::create(m_model, c);
        QVERIFY2(r.isOk(), r.status().message().c_str());
        const auto& experts = (*r)->esftExperts();
        QVERIFY(!experts.empty());
        for (const auto& [il, e] : experts) {
            QVERIFY(!e.empty());
            QVERIFY(int(e.size()) < m_model->spec().nExpert); // a subset, not every expert
        }
        auto before = (*r)->evaluate(false);
        (void)runLosses(**r);
        auto after = (*r)->evaluate(false);
        QVERIFY2(*after < *before, qPrintable(QString("loss %1 -> %2").arg(*before).arg(*after)));
        QVERIFY(QFile::exists(QString::fromStdString(c.outputDir + "/weights/model.safetensors")));
        QVERIFY(QFile::exists(QString::fromStdString(c.outputDir + "/weights/esft_experts.json")));
    }

    void fullFineTuning() {
        TrainingConfig c = baseConfig(m_data);
        c.method = TrainingMethod::Full;
        c.maxSteps = 16;
        c.learningRate = 3e-3;
        auto r = TrainingRun::create(m_model, c);
        QVERIFY(r.isOk());
        QCOMPARE(uint64_t((*r)->trainableParameters()), m_model->info().parameterCount);
        auto before = (*r)->evaluate(false);
        (void)runLosses(**r);
        auto after = (*r)->evaluate(false);
        QVERIFY2(*after < 0.7 * *before, qPrintable(QString("loss %1 -> %2").arg(*before).arg(*after)));
    }

    void configErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("field");
        QTest::newRow("unknown") << R"({"lr": 1})" << "lr";
        QTest::newRow("method") << R"({"method": "qlora"})" << "method";
        QTest::newRow("schedule") << R"({"schedule": "step"})" << "schedule";
        QTest::newRow("rank") << R"({"lora_rank": 0})" << "lora_rank";
        QTest::newRow("type") << R"({"epochs": "two"})" << "epochs";
        QTest::newRow("esft") << R"({"esft_experts": {"x": [1]}})" << "esft_experts";
        QTest::newRow("json") << R"({"method": )" << "not valid JSON";
    }
    void configErrors() {
        QFETCH(QString, json);
        QFETCH(QString, field);
        auto c = parseTrainingConfig(json.toStdString(), "run.json");
        QVERIFY(!c.isOk());
        QVERIFY2(c.status().message().find("run.json") != std::string::npos, c.status().message().c_str());
        QVERIFY2(c.status().message().find(field.toStdString()) != std::string::npos, c.status().message().c_str());
    }

    void configRoundTrip() {
        TrainingConfig c;
        c.method = TrainingMethod::Esft;
        c.esftExperts = {{1, {0, 3}}};
        c.targetModules = {"all-linear"};
        c.seed = 7;
        auto back = parseTrainingConfig(trainingConfigJson(c), "x");
        QVERIFY2(back.isOk(), back.status().message().c_str());
        QCOMPARE(trainingConfigJson(*back), trainingConfigJson(c));
    }

    void malformedDatasetStopsTheRun() {
        const std::string bad = writeText(m_dir, "bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": 3}\n");
        auto r = TrainingRun::create(m_model, baseConfig(bad));
        QVERIFY(!r.isOk());
        QVERIFY2(r.status().message().find("bad.jsonl") != std::string::npos, r.status().message().c_str());
        QVERIFY2(r.status().message().find(":2") != std::string::npos || r.status().message().find("line 2") != std::string::npos,
                 r.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "test-trainer.moc"
