// Logit parity with Hugging Face transformers for every supported architecture (issue 4, spec
// §12). Goldens: tests/data/parity/<case>/ holds a tiny random model that transformers built and
// saved (save_pretrained, float32 safetensors + config.json) and what transformers computed from
// it on CPU in float32 with eager attention: logits.npy (all prompt positions) and golden.json
// (prompt ids, an 8-token greedy continuation, the transformers/torch versions, code-path notes).
// The goldens were made by transformers, never by this engine. To remake them, on a machine with
// PyTorch + transformers: python3 tests/parity/make_goldens.py --out DIR, then copy DIR/<case>/
// here (the script's head comment says what it does; summary.json lists the cases and versions).
//
// Each case: (1) every position's logits within max|ours - ref| / max|ref| <= 1e-4 of the golden,
// (2) the greedy continuation, decoded one token at a time on the KV cache, equals the golden's,
// (3) the prompt evaluated token by token in a fresh session (KV-cache decode) equals the batch
// evaluation at every position within the same tolerance. checkParity() takes any loaded model,
// so the GGUF conversion of each case is checked by the same function as its HF folder.
#include "npy-reader.h"

#include "moe/model.h"
#include "moe/quantize.h"
#include "moe/session.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

using namespace moe;

namespace {

constexpr float kTolerance = 1e-4f; // relative to max |ref| of the position (spec §12, float32)

// Every case make_goldens.py writes; a missing folder fails its row.
const char* const kCases[] = {
    "mixtral", "qwen2_moe",        "qwen3_moe",         "olmoe",       "llama",          "qwen2",
    "qwen3",   "deepseek_v2_lite", "deepseek_v2_group", "deepseek_v3", "deepseek_v3_noq"};

struct Golden {
    std::vector<int32_t> prompt;
    std::vector<int32_t> greedy;
    testing::NpyF32 logits; // [nTok, nVocab]
    QString description;
    QString transformersVersion;
};

// Reads golden.json and logits.npy of a case folder; an empty string on success.
QString readGolden(const QString& dir, Golden& g) {
    QFile f(dir + "/golden.json");
    if (!f.open(QIODevice::ReadOnly)) return dir + "/golden.json: cannot open";
    QJsonParseError err;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll(), &err).object();
    if (err.error != QJsonParseError::NoError) return dir + "/golden.json: " + err.errorString();
    for (const QJsonValue v : o.value("prompt_ids").toArray())
        g.prompt.push_back(int32_t(v.toInt()));
    for (const QJsonValue v : o.value("greedy_ids").toArray())
        g.greedy.push_back(int32_t(v.toInt()));
    g.description = o.value("description").toString();
    g.transformersVersion = o.value("transformers_version").toString();
    if (g.prompt.empty() || g.greedy.empty())
        return dir + "/golden.json: prompt_ids or greedy_ids missing";
    const std::string npyError = testing::readNpyF32((dir + "/logits.npy").toStdString(), g.logits);
    if (!npyError.empty()) return QString::fromStdString(npyError);
    if (g.logits.shape.size() != 2 || g.logits.shape[0] != int64_t(g.prompt.size()))
        return dir + "/logits.npy: shape is not [" + QString::number(g.prompt.size()) + ", nVocab]";
    return {};
}

int argmax(std::span<const float> row) {
    return int(std::max_element(row.begin(), row.end()) - row.begin());
}

struct Worst {
    float rel = 0;
    int position = -1;
    float absDiff = 0;
    float refMax = 0;
};

// Per position: max |a - b| / max |b| over the row; the worst position.
Worst compareRows(const std::vector<float>& a, const std::vector<float>& b, size_t nVocab) {
    Worst w;
    for (size_t p = 0; p * nVocab < b.size(); ++p) {
        float d = 0, m = 0;
        for (size_t v = p * nVocab; v < (p + 1) * nVocab; ++v) {
            d = std::max(d, std::fabs(a[v] - b[v]));
            m = std::max(m, std::fabs(b[v]));
        }
        const float rel = m > 0 ? d / m : d;
        if (rel > w.rel || w.position < 0) w = {rel, int(p), d, m};
    }
    return w;
}

QString listIds(const std::vector<int32_t>& ids) {
    QStringList s;
    for (int32_t id : ids)
        s << QString::number(id);
    return "[" + s.join(", ") + "]";
}

} // namespace

class TestParity : public QObject {
    Q_OBJECT

    // The three parity checks on one loaded model (an HF folder or its GGUF conversion).
    // Fails the current test with the case, position and values at fault.
    void checkParity(const std::shared_ptr<const Model>& model, const Golden& g,
                     const QString& label) {
        const size_t nVocab = size_t(g.logits.shape[1]);
        QCOMPARE(size_t(model->spec().nVocab), nVocab);

        // (1) all-position logits against transformers.
        auto session = Session::create(model);
        QVERIFY2(session.isOk(),
                 qPrintable(label + ": " + QString::fromStdString(session.status().message())));
        auto logits = (*session)->evaluate(g.prompt, false);
        QVERIFY2(logits.isOk(), qPrintable(label + ": evaluate: " +
                                           QString::fromStdString(logits.status().message())));
        QCOMPARE(logits->size(), g.logits.data.size());
        const Worst w = compareRows(*logits, g.logits.data, nVocab);
        qInfo("%s: worst position %d of %zu: max|ours - ref| = %g, max|ref| = %g, relative %g",
              qPrintable(label), w.position, g.prompt.size(), double(w.absDiff), double(w.refMax),
              double(w.rel));
        QVERIFY2(
            w.rel <= kTolerance,
            qPrintable(
                QString(
                    "%1: logits differ from transformers %2 at position %3: max|ours - ref| = %4, "
                    "max|ref| = %5 (relative %6 > %7)")
                    .arg(label, g.transformersVersion)
                    .arg(w.position)
                    .arg(double(w.absDiff))
                    .arg(double(w.refMax))
                    .arg(double(w.rel))
                    .arg(double(kTolerance))));

        // (2) greedy continuation, one token at a time on the cache.
        std::vector<int32_t> greedy;
        std::span<const float> last(logits->data() + (g.prompt.size() - 1) * nVocab, nVocab);
        greedy.push_back(argmax(last));
        while (greedy.size() < g.greedy.size()) {
            auto step = (*session)->evaluate(std::span<const int32_t>(&greedy.back(), 1), true);
            QVERIFY2(step.isOk(), qPrintable(label + ": decode: " +
                                             QString::fromStdString(step.status().message())));
            greedy.push_back(argmax(*step));
        }
        QVERIFY2(greedy == g.greedy, qPrintable(label + ": greedy " + listIds(greedy) +
                                                ", transformers " + listIds(g.greedy)));

        // (3) decode equals recompute: the prompt token by token in a fresh session.
        auto fresh = Session::create(model);
        QVERIFY(fresh.isOk());
        std::vector<float> decoded;
        decoded.reserve(logits->size());
        for (const int32_t& id : g.prompt) {
            auto step = (*fresh)->evaluate(std::span<const int32_t>(&id, 1), true);
            QVERIFY2(step.isOk(), qPrintable(label + ": decode: " +
                                             QString::fromStdString(step.status().message())));
            decoded.insert(decoded.end(), step->begin(), step->end());
        }
        const Worst d = compareRows(decoded, *logits, nVocab);
        QVERIFY2(
            d.rel <= kTolerance,
            qPrintable(
                QString(
                    "%1: token-by-token decode differs from the batch evaluation at position %2: "
                    "max|diff| = %3, max|batch| = %4 (relative %5)")
                    .arg(label)
                    .arg(d.position)
                    .arg(double(d.absDiff))
                    .arg(double(d.refMax))
                    .arg(double(d.rel))));
    }

private slots:
    void hfFolder_data() {
        QTest::addColumn<QString>("dir");
        const QString root = QStringLiteral(MOE_TEST_DATA_DIR) + "/parity";
        for (const char* c : kCases)
            QTest::newRow(c) << root + "/" + c;
    }

    void hfFolder() {
        QFETCH(QString, dir);
        Golden g;
        const QString error = readGolden(dir, g);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        auto model = Model::load(dir.toStdString());
        QVERIFY2(model.isOk(), qPrintable(QString::fromStdString(model.status().message())));
        qInfo("%s: %s", qPrintable(QDir(dir).dirName()), qPrintable(g.description));
        checkParity(*model, g, QDir(dir).dirName() + " (HF folder)");
    }

    // The GGUF conversion of each case (convertHfFolder): the same three checks. Catches what a
    // conversion loses (a key GGUF cannot hold, a permuted row).
    void ggufConversion_data() { hfFolder_data(); }
    void ggufConversion() {
        QFETCH(QString, dir);
        Golden g;
        const QString error = readGolden(dir, g);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QTemporaryDir tmp;
        const std::string gguf = tmp.filePath("model.gguf").toStdString();
        auto converted = convertHfFolder(dir.toStdString(), gguf);
        QVERIFY2(converted.isOk(), converted.status().message().c_str());
        auto model = Model::load(gguf);
        QVERIFY2(model.isOk(), qPrintable(QString::fromStdString(model.status().message())));
        checkParity(*model, g, QDir(dir).dirName() + " (GGUF conversion)");
    }
};

QTEST_GUILESS_MAIN(TestParity)
#include "test-parity.moc"
