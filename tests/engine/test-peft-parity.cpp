// LoRA parity with transformers + PEFT 0.21 (issue 7). tests/data/peft/<case>/ holds, for the tiny
// transformers models of tests/data/parity, a PEFT adapter with random A and B (PEFT's own
// save_pretrained), the batch (tokens.npy, labels.npy: [2, seq] int32, -100 ignored), and what
// transformers + PEFT computed from them on CPU in float32 (tests/parity/make_peft_goldens.py):
// the adapted model's logits, the loss, every adapter gradient, and the adapter after one
// torch.optim.AdamW step. Checked here, per case:
//   - the PEFT adapter loads (names, shapes, r, alpha) and the adapted logits match (1e-4 of max);
//   - loss and every gradient tensor match within 1e-4 relative (max |ours - ref| / max |ref|);
//   - one AdamW step from our gradients lands where torch's did (1e-5 relative).
#include "npy-reader.h"

#include "core/thread-pool.h"
#include "formats/safetensors/safetensors-file.h"
#include "models/model-impl.h"
#include "moe/model.h"
#include "moe/quantize.h"
#include "moe/session.h"
#include "moe/training.h"
#include "ops/ops-backward.h"
#include "training/peft-adapter.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace moe;

namespace {

const char* const kCases[] = {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "llama", "qwen2", "deepseek_v2_lite",
                              "deepseek_v3"};

QString dataDir() {
    return QStringLiteral(MOE_TEST_DATA_DIR);
}

// A C-order int32 .npy written by numpy (format 1.0); empty on any error.
std::vector<int32_t> readInt32Npy(const std::string& path, std::vector<int64_t>& shape) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0 || bytes[6] != 1) return {};
    const size_t len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
    const std::string header = bytes.substr(10, len);
    if (header.find("'<i4'") == std::string::npos) return {};
    const size_t open = header.find("'shape': (");
    shape.clear();
    size_t n = 1;
    for (size_t p = open + 10; p < header.size() && header[p] != ')';) {
        if (header[p] == ' ' || header[p] == ',') {
            ++p;
            continue;
        }
        size_t used = 0;
        shape.push_back(std::stoll(header.substr(p), &used));
        n *= size_t(shape.back());
        p += used;
    }
    std::vector<int32_t> v(n);
    if (bytes.size() < 10 + len + 4 * n) return {};
    std::memcpy(v.data(), bytes.data() + 10 + len, 4 * n);
    return v;
}

double relDiff(const std::vector<float>& a, const std::vector<float>& ref) {
    double maxRef = 0, maxDiff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        maxRef = std::max(maxRef, double(std::abs(ref[i])));
        maxDiff = std::max(maxDiff, double(std::abs(a[i] - ref[i])));
    }
    return maxRef > 0 ? maxDiff / maxRef : maxDiff;
}

} // namespace

class TestPeftParity : public QObject {
    Q_OBJECT

private slots:
    void parity_data() {
        QTest::addColumn<QString>("name");
        for (const char* c : kCases)
            QTest::newRow(c) << QString(c);
    }

    void parity() {
        QFETCH(QString, name);
        check((dataDir() + "/parity/" + name).toStdString(), (dataDir() + "/peft/" + name).toStdString());
    }

    // The same adapters on the GGUF conversions of the llama-architecture models, whose q/k rows
    // GGUF stores permuted for interleaved rope: loading reorders lora_B, saving and gradients
    // come back in PEFT's order.
    void parityOnGguf_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("mixtral") << "mixtral";
        QTest::newRow("llama") << "llama";
        QTest::newRow("deepseek_v2_lite") << "deepseek_v2_lite";
    }
    void parityOnGguf() {
        QFETCH(QString, name);
        QTemporaryDir tmp;
        const std::string gguf = tmp.filePath("model.gguf").toStdString();
        auto converted = convertHfFolder((dataDir() + "/parity/" + name).toStdString(), gguf);
        QVERIFY2(converted.isOk(), converted.status().message().c_str());
        check(gguf, (dataDir() + "/peft/" + name).toStdString());
        // Saved back (PEFT layout, Hugging Face row order): the same tensors as PEFT's file.
        auto model = Model::load(gguf);
        QVERIFY(model.isOk());
        const std::string dir = (dataDir() + "/peft/" + name).toStdString();
        auto adapter = train::loadPeftAdapter(dir);
        QVERIFY(adapter.isOk());
        auto tm = train::TrainModel::bind((*model)->impl(), adapter->targets);
        QVERIFY(tm.isOk());
        QVERIFY(train::applyPeftAdapter(**tm, *adapter, dir).isOk());
        const std::string out = tmp.filePath("saved").toStdString();
        QVERIFY(train::savePeftAdapter(out, (*tm)->spec(), adapter->targets, (*tm)->params(), gguf).isOk());
        auto back = train::loadPeftAdapter(out);
        QVERIFY2(back.isOk(), back.status().message().c_str());
        QCOMPARE(back->tensors.size(), adapter->tensors.size());
        for (const auto& [n, v] : adapter->tensors)
            QVERIFY2(back->tensors.at(n) == v, n.c_str());
    }

private:
    void check(const std::string& modelPath, const std::string& dir) {
        auto model = Model::load(modelPath);
        QVERIFY2(model.isOk(), model.status().message().c_str());
        std::vector<int64_t> shape, labelShape;
        const std::vector<int32_t> tokens = readInt32Npy(dir + "/tokens.npy", shape);
        const std::vector<int32_t> labels = readInt32Npy(dir + "/labels.npy", labelShape);
        QVERIFY(!tokens.empty() && shape.size() == 2 && shape == labelShape);
        const int batch = int(shape[0]), seq = int(shape[1]);
        QFile gf(QString::fromStdString(dir + "/golden.json"));
        QVERIFY(gf.open(QIODevice::ReadOnly));
        const double refLoss = QJsonDocument::fromJson(gf.readAll()).object().value("loss").toDouble();

        // The adapter loads; the adapted logits match.
        auto adapter = train::loadPeftAdapter(dir);
        QVERIFY2(adapter.isOk(), adapter.status().message().c_str());
        QCOMPARE(adapter->targets.loraRank, 4);
        QCOMPARE(adapter->targets.loraAlpha, 8.0f);
        auto tm = train::TrainModel::bind((*model)->impl(), adapter->targets);
        QVERIFY2(tm.isOk(), tm.status().message().c_str());
        QVERIFY2(train::applyPeftAdapter(**tm, *adapter, dir).isOk(), "apply");
        std::vector<train::TrainSequence> seqs;
        for (int b = 0; b < batch; ++b)
            seqs.push_back({std::span(tokens).subspan(size_t(b * seq), size_t(seq)),
                            std::span(labels).subspan(size_t(b * seq), size_t(seq))});
        ThreadPool pool(2);
        train::TrainContext ctx;
        ctx.pool = &pool;
        auto logits = (*tm)->logits(seqs, ctx);
        QVERIFY(logits.isOk());
        testing::NpyF32 refLogits;
        QVERIFY(testing::readNpyF32(dir + "/logits.npy", refLogits).empty());
        QCOMPARE(logits->size(), refLogits.data.size());
        const double logitDiff = relDiff(*logits, refLogits.data);
        QVERIFY2(logitDiff <= 1e-4, qPrintable(QString("logits: %1").arg(logitDiff)));

        // Loss and every gradient.
        auto g = adapterGradients(*model, dir, tokens, labels, batch, seq);
        QVERIFY2(g.isOk(), g.status().message().c_str());
        QVERIFY2(std::abs(g->loss - refLoss) <= 1e-5 * refLoss, qPrintable(QString("loss %1 vs %2").arg(g->loss).arg(refLoss)));
        auto refGrads = st::SafetensorsFile::open(dir + "/grads.safetensors");
        QVERIFY2(refGrads.isOk(), refGrads.status().message().c_str());
        QCOMPARE(g->gradients.size(), refGrads->tensors().size());
        for (const st::Tensor& t : refGrads->tensors()) {
            auto it = g->gradients.find(t.name);
            QVERIFY2(it != g->gradients.end(), t.name.c_str());
            std::vector<float> ref;
            QVERIFY(st::toF32(t, refGrads->path(), ref).isOk());
            const double d = relDiff(it->second, ref);
            QVERIFY2(d <= 1e-4, qPrintable(QString("%1: %2").arg(t.name.c_str()).arg(d)));
        }

        // One AdamW step (lr 1e-2, weight decay 0.1, torch's other defaults) from torch's gradients:
        // the optimizer's arithmetic alone (a first step is lr · g / (|g| + eps), so gradient
        // elements near zero would amplify the 1e-4 gradient tolerance).
        auto refAfter = st::SafetensorsFile::open(dir + "/adamw.safetensors");
        QVERIFY(refAfter.isOk());
        ops::AdamWParams ap;
        ap.lr = 1e-2;
        ap.weightDecay = 0.1;
        for (const st::Tensor& gt : refGrads->tensors()) {
            const std::string& name = gt.name;
            std::vector<float> grad;
            QVERIFY(st::toF32(gt, refGrads->path(), grad).isOk());
            std::vector<float> p = adapter->tensors.at(name.substr(std::strlen(train::kPeftPrefix)));
            std::vector<float> m(p.size(), 0.0f), v(p.size(), 0.0f), ref;
            ops::adamwStep(p.data(), grad.data(), m.data(), v.data(), int64_t(p.size()), 1, ap);
            const st::Tensor* t = refAfter->tensor(name);
            QVERIFY2(t, name.c_str());
            QVERIFY(st::toF32(*t, refAfter->path(), ref).isOk());
            const double d = relDiff(p, ref);
            QVERIFY2(d <= 1e-5, qPrintable(QString("AdamW %1: %2").arg(name.c_str()).arg(d)));
        }
    }

private slots:
    // The adapter merged into the GGUF base (mergeIntoGguf, f32): plain inference on the merged
    // file gives PEFT's adapted logits (llama's permuted q/k rows, DeepSeek's split kv_b, Qwen's
    // shared expert).
    void mergedGgufMatchesPeft_data() {
        QTest::addColumn<QString>("name");
        for (const char* c : {"mixtral", "qwen2_moe", "deepseek_v2_lite", "deepseek_v3"})
            QTest::newRow(c) << QString(c);
    }
    void mergedGgufMatchesPeft() {
        QFETCH(QString, name);
        QTemporaryDir tmp;
        const std::string base = tmp.filePath("base.gguf").toStdString(), merged = tmp.filePath("merged.gguf").toStdString();
        const std::string dir = (dataDir() + "/peft/" + name).toStdString();
        QVERIFY(convertHfFolder((dataDir() + "/parity/" + name).toStdString(), base).isOk());
        auto report = mergeIntoGguf(base, dir, merged, "f32");
        QVERIFY2(report.isOk(), report.status().message().c_str());
        QVERIFY(report->mergedTensors > 0);
        auto model = Model::load(merged);
        QVERIFY2(model.isOk(), model.status().message().c_str());
        std::vector<int64_t> shape;
        const std::vector<int32_t> tokens = readInt32Npy(dir + "/tokens.npy", shape);
        QVERIFY(shape.size() == 2);
        testing::NpyF32 ref;
        QVERIFY(testing::readNpyF32(dir + "/logits.npy", ref).empty());
        std::vector<float> ours;
        for (int64_t b = 0; b < shape[0]; ++b) {
            SessionOptions o;
            o.nCtx = int(shape[1]);
            auto session = Session::create(*model, o);
            QVERIFY(session.isOk());
            auto l = (*session)->evaluate(std::span(tokens).subspan(size_t(b * shape[1]), size_t(shape[1])), false);
            QVERIFY2(l.isOk(), l.status().message().c_str());
            ours.insert(ours.end(), l->begin(), l->end());
        }
        const double d = relDiff(ours, ref.data);
        QVERIFY2(d <= 1e-4, qPrintable(QString("merged logits: %1").arg(d)));
        // An adapter of another model is refused, naming the tensor the base lacks.
        auto bad = mergeIntoGguf(base, (dataDir() + "/peft/llama").toStdString(), tmp.filePath("x.gguf").toStdString());
        QVERIFY(!bad.isOk());
    }

    // PEFT 0.21 over transformers 5 puts LoRA on fused expert parameters (target_parameters with a
    // rank_pattern); MoE Studio refuses such an adapter, naming the file, instead of loading it
    // wrongly.
    void fusedExpertAdapterRefused() {
        const std::string dir = (dataDir() + "/peft-fused-experts").toStdString();
        auto a = train::loadPeftAdapter(dir);
        QVERIFY(!a.isOk());
        QVERIFY2(a.status().message().find("adapter_config.json") != std::string::npos, a.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestPeftParity)
#include "test-peft-parity.moc"
