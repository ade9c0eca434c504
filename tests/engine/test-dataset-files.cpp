// Fine-tuning datasets (moe/dataset.h), files and what comes after encoding: format detection,
// malformed records (the message names file and line or record, and the problem), the seeded
// validation split and a separate validation file, batches under a token budget (every index
// once, within the budget, deterministic), the packed layout, the head-only preview, cancelling.
// Encoding and masks: test-dataset.cpp. The tokenizer is the "moe-bytes" vocabulary of a random
// model (one token per byte), so lengths are easy to reason about.
#include "moe/dataset.h"
#include "moe/model-factory.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <set>

using namespace moe;

class TestDatasetFiles : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Tokenizer> m_tok;

    std::string write(const QString& name, const QByteArray& content) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
        f.write(content);
        return path.toStdString();
    }
    ChatTemplate tmpl(const std::string& name) {
        return std::move(ChatTemplate::builtin(name)).value();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const std::string model = m_dir.filePath("m.gguf").toStdString();
        QVERIFY(writeRandomModel({}, model).isOk());
        auto tok = loadTokenizer(model);
        QVERIFY2(tok.isOk(), tok.status().message().c_str());
        m_tok = std::move(tok).value();
    }

    void detection_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("format"); // or "error: substring"
        QTest::newRow("alpaca jsonl")
            << "a.jsonl" << QByteArray(R"({"instruction": "i", "output": "o"})") << "alpaca";
        QTest::newRow("sharegpt array")
            << "s.json" << QByteArray(R"( [ {"conversations": []} ])") << "sharegpt";
        QTest::newRow("openai") << "o.jsonl" << QByteArray(R"({"messages": []})") << "openai";
        QTest::newRow("text jsonl") << "t.jsonl" << QByteArray(R"({"text": "x"})") << "text";
        QTest::newRow("txt with braces") << "b.txt" << QByteArray(R"({"messages": []})") << "text";
        QTest::newRow("no extension") << "notes" << QByteArray("just words") << "text";
        QTest::newRow("unknown keys")
            << "u.jsonl" << QByteArray(R"({"prompt": "p", "completion": "c"})")
            << "error: u.jsonl:1: cannot tell the dataset format from the keys (completion, "
               "prompt)";
        QTest::newRow("empty array") << "e.json" << QByteArray("[]") << "error: e.json: no records";
        QTest::newRow("not json") << "n.json" << QByteArray("hello") << "error: n.json: not JSON";
    }
    void detection() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, format);
        const std::string path = write(file, content);
        auto f = detectDatasetFormat(path);
        if (format.startsWith("error: ")) {
            QVERIFY(!f.isOk());
            const std::string want = format.mid(7).toStdString();
            QVERIFY2(f.status().message().find(want) != std::string::npos,
                     f.status().message().c_str());
            return;
        }
        QVERIFY2(f.isOk(), f.status().message().c_str());
        QCOMPARE(QString(datasetFormatName(*f)), format);
    }

    void malformed_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("message");
        const QByteArray ok = R"({"instruction": "i", "output": "o"})";
        QTest::newRow("bad json")
            << "bad.jsonl" << (ok + "\n" + ok + "\n{\"instruction\": \"i\",\n") << "auto"
            << "bad.jsonl:3: invalid JSON: column 21: syntax error while parsing object key";
        QTest::newRow("missing key")
            << "mk.jsonl" << (ok + "\n" + R"({"instruction": "i"})") << "auto"
            << "mk.jsonl:2: missing key 'output'";
        QTest::newRow("wrong type")
            << "wt.jsonl" << QByteArray(R"({"instruction": 3, "output": "o"})") << "auto"
            << "wt.jsonl:1: 'instruction' must be a string, got number";
        QTest::newRow("not an object") << "no.jsonl" << (ok + "\n[1, 2]") << "auto"
                                       << "no.jsonl:2: a record must be a JSON object, got array";
        QTest::newRow("empty conversation")
            << "ec.jsonl" << QByteArray(R"({"conversations": []})") << "auto"
            << "ec.jsonl:1: 'conversations' is empty";
        QTest::newRow("unknown role")
            << "ur.jsonl"
            << QByteArray(
                   R"({"conversations": [{"from": "human", "value": "a"}, {"from": "bot", "value": "b"}]})")
            << "auto"
            << "ur.jsonl:1: 'conversations[1].from' is 'bot'; expected human, gpt or system";
        QTest::newRow("message content")
            << "mc.jsonl" << QByteArray(R"({"messages": [{"role": "user", "content": ["x"]}]})")
            << "auto"
            << "mc.jsonl:1: 'messages[0].content' must be a string, got array";
        QTest::newRow("array record")
            << "ar.json"
            << (QByteArray("[") + ok + ",\n" + ok + ",\n" + R"({"instruction": "i", "output": 5}])")
            << "auto"
            << "ar.json: record 3: 'output' must be a string, got number";
        QTest::newRow("array syntax")
            << "as.json" << (QByteArray("[") + ok + ",\n" + ok + "\n" + ok + "]") << "auto"
            << "as.json:3: invalid JSON: column 1: syntax error while parsing array";
        QTest::newRow("wrong format") << "wf.jsonl" << ok << "sharegpt"
                                      << "wf.jsonl:1: missing key 'conversations'";
        QTest::newRow("role order")
            << "ro.jsonl"
            << QByteArray(
                   R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})")
            << "mistral"
            << "ro.jsonl:1: the chat template refuses the conversation: |Conversation roles must "
               "alternate";
    }
    void malformed() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, format);
        QFETCH(QString, message);
        const std::string path = write(file, content);
        DatasetOptions o;
        const ChatTemplate mistral = tmpl("mistral");
        const ChatTemplate* t = nullptr;
        if (format == "mistral")
            t = &mistral;
        else
            o.format = *parseDatasetFormat(format.toStdString());
        auto ds = loadDataset(path, *m_tok, t, o);
        QVERIFY(!ds.isOk());
        QCOMPARE(int(ds.status().code()), int(StatusCode::InvalidArgument));
        // "prefix|also contains": the location and problem first, then the template's own words.
        const QStringList parts = message.split('|');
        const std::string& got = ds.status().message();
        QVERIFY2(got.find(m_dir.filePath(parts[0]).toStdString()) == 0, got.c_str());
        if (parts.size() > 1)
            QVERIFY2(got.find(parts[1].toStdString()) != std::string::npos, got.c_str());
    }

    void validationSplit() {
        QByteArray lines;
        for (int i = 0; i < 20; ++i)
            lines += "{\"instruction\": \"q" + QByteArray::number(i) + "\", \"output\": \"a" +
                     QByteArray::number(i) + "\"}\n";
        const std::string path = write("split.jsonl", lines);
        DatasetOptions o;
        o.validationFraction = 0.25;
        auto records = [](const std::vector<TrainingExample>& v) {
            std::vector<int64_t> r;
            for (const auto& ex : v)
                r.push_back(ex.record);
            return r;
        };
        auto a = loadDataset(path, *m_tok, nullptr, o), b = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(a.isOk() && b.isOk());
        QCOMPARE(a->validation.size(), size_t(5));
        QCOMPARE(a->train.size(), size_t(15));
        QCOMPARE(records(a->validation), records(b->validation));
        QCOMPARE(a->validationStats.examples, int64_t(5));
        QCOMPARE(a->validationStats.records, int64_t(5));
        QCOMPARE(a->trainStats.records, int64_t(15));
        std::set<int64_t> all;
        for (int64_t r : records(a->train))
            all.insert(r);
        for (int64_t r : records(a->validation))
            all.insert(r);
        QCOMPARE(all.size(), size_t(20));
        QVERIFY(std::is_sorted(a->validation.begin(), a->validation.end(),
                               [](const auto& x, const auto& y) { return x.record < y.record; }));
        o.seed = 7;
        auto c = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(c.isOk());
        QVERIFY(records(c->validation) != records(a->validation));

        // A separate file, with its own format.
        DatasetOptions s;
        s.validationPath = write(
            "val.jsonl",
            R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]})");
        auto d = loadDataset(path, *m_tok, nullptr, s);
        QVERIFY2(d.isOk(), d.status().message().c_str());
        QCOMPARE(d->train.size(), size_t(20));
        QCOMPARE(d->validation.size(), size_t(1));
        QCOMPARE(int(d->validationFormat), int(DatasetFormat::OpenAiMessages));
        QCOMPARE(d->validationStats.records, int64_t(1));
        s.validationFraction = 0.1;
        QVERIFY(!loadDataset(path, *m_tok, nullptr, s).isOk()); // not both
    }

    void batches_data() {
        QTest::addColumn<bool>("packing");
        QTest::addColumn<bool>("shuffle");
        QTest::newRow("in order") << false << false;
        QTest::newRow("shuffled") << false << true;
        QTest::newRow("packed") << true << false;
        QTest::newRow("packed shuffled") << true << true;
    }
    void batches() {
        QFETCH(bool, packing);
        QFETCH(bool, shuffle);
        std::vector<TrainingExample> examples(200);
        uint64_t x = 12345;
        for (auto& ex : examples) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ex.tokens.assign(size_t(1 + (x >> 33) % 300), 7);
            ex.labels = ex.tokens;
        }
        examples[17].tokens.assign(700, 7); // over the budget: a batch of its own
        const int budget = 512;
        auto batches = makeBatches(examples, budget, packing, 3, shuffle);
        QCOMPARE(makeBatches(examples, budget, packing, 3, shuffle), batches);
        std::vector<int> seen(examples.size(), 0);
        int64_t total = 0;
        for (const auto& b : batches) {
            QVERIFY(!b.empty());
            int64_t sum = 0;
            for (int i : b) {
                ++seen[size_t(i)];
                sum += int64_t(examples[size_t(i)].tokens.size());
            }
            QVERIFY2(sum <= budget || b.size() == 1, qPrintable(QString::number(sum)));
            total += sum;
        }
        for (int s : seen)
            QCOMPARE(s, 1);
        if (packing) { // first-fit decreasing stays within 11/9 OPT + 1 >= the lower bound
            QVERIFY(double(batches.size()) <= std::ceil(double(total) / budget) * 11.0 / 9.0 + 2);
            QVERIFY(batches.size() <= makeBatches(examples, budget, false, 3, false).size());
        } else if (!shuffle) {
            std::vector<int> flat;
            for (const auto& b : batches)
                flat.insert(flat.end(), b.begin(), b.end());
            QVERIFY(std::is_sorted(flat.begin(), flat.end()));
        }
        if (shuffle) QVERIFY(makeBatches(examples, budget, packing, 4, shuffle) != batches);
    }

    void packedBatch() {
        std::vector<TrainingExample> examples(3);
        examples[0].tokens = {1, 10, 11};
        examples[0].labels = {-100, 10, 11};
        examples[1].tokens = {1, 20};
        examples[1].labels = {-100, -100};
        examples[2].tokens = {1, 30, 31, 32};
        examples[2].labels = {1, 30, -100, 32};
        const PackedBatch p = packBatch(examples, {2, 0});
        QCOMPARE(p.tokens, (std::vector<int32_t>{1, 30, 31, 32, 1, 10, 11}));
        QCOMPARE(p.labels, (std::vector<int32_t>{1, 30, -100, 32, -100, 10, 11}));
        QCOMPARE(p.positions, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2}));
        QCOMPARE(p.sequenceStarts, (std::vector<int32_t>{0, 4, 7}));
        QCOMPARE(p.trainedTokens, int64_t(4));
    }

    void preview() {
        QByteArray lines;
        for (int i = 1; i <= 100; ++i)
            lines += "{\"conversations\": [{\"from\": \"human\", \"value\": \"q" +
                     QByteArray::number(i) + "\"}, {\"from\": \"gpt\", \"value\": \"a\"}]}\n";
        auto p = previewDataset(write("many.jsonl", lines + "{broken\n"), 3);
        QVERIFY2(p.isOk(), p.status().message().c_str());
        QCOMPARE(int(p->format), int(DatasetFormat::ShareGpt));
        QCOMPARE(p->records.size(), size_t(3));
        QVERIFY(!p->complete);
        QCOMPARE(p->records[2].record, int64_t(3));
        QCOMPARE(p->records[2].messages.size(), size_t(2));
        QCOMPARE(p->records[2].messages[0].role, std::string("user"));
        QCOMPARE(p->records[2].messages[0].content, std::string("q3"));
        QCOMPARE(p->records[2].messages[1].role, std::string("assistant"));

        // A JSON array is parsed only as far as the preview needs: a broken tail goes unread.
        const QByteArray rec = R"({"instruction": "i", "input": "x", "output": "o"})";
        auto a = previewDataset(
            write("head.json", "[" + rec + ", " + rec + ", " + rec + ", {\"broken"), 2);
        QVERIFY2(a.isOk(), a.status().message().c_str());
        QCOMPARE(int(a->format), int(DatasetFormat::Alpaca));
        QCOMPARE(a->records.size(), size_t(2));
        QVERIFY(!a->complete);
        QCOMPARE(a->records[1].messages.back().content, std::string("o"));
        QCOMPARE(a->records[1].messages.front().content, std::string("i\nx"));
        auto whole = previewDataset(write("two.json", "[" + rec + ",\n" + rec + "\n]\n"), 2);
        QVERIFY(whole.isOk());
        QCOMPARE(whole->records.size(), size_t(2));
        QVERIFY(whole->complete);
        auto more = previewDataset(write("two.json", "[" + rec + ",\n" + rec + "\n]\n"), 5);
        QVERIFY(more.isOk() && more->complete);

        // A malformed record among those shown is an error, as when loading.
        auto bad = previewDataset(write("bad-head.jsonl", "{\"messages\": 1}\n"), 3);
        QVERIFY(!bad.isOk());
        QVERIFY(bad.status().message().find("bad-head.jsonl:1: 'messages' must be an array") !=
                std::string::npos);

        const std::string big(10000, 'z');
        auto t = previewDataset(write("big.txt", QByteArray::fromStdString(big)), 5);
        QVERIFY(t.isOk());
        QCOMPARE(int(t->format), int(DatasetFormat::PlainText));
        QCOMPARE(t->records.size(), size_t(1));
        QCOMPARE(t->records[0].messages[0].role, std::string("text"));
        QCOMPARE(t->records[0].messages[0].content.size(), size_t(4096));
        QVERIFY(!t->complete);
    }

    void progressCancels() {
        QByteArray lines;
        for (int i = 0; i < 10; ++i)
            lines += "{\"text\": \"t\"}\n";
        const std::string path = write("cancel.jsonl", lines);
        DatasetOptions o;
        int calls = 0;
        double last = 0;
        o.progress = [&](double f) {
            last = f;
            return ++calls < 4;
        };
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(!ds.isOk());
        QCOMPARE(int(ds.status().code()), int(StatusCode::Cancelled));
        QCOMPARE(calls, 4);
        QVERIFY(last > 0 && last < 1);
        QVERIFY(!loadDataset(m_dir.filePath("missing.jsonl").toStdString(), *m_tok, nullptr, {})
                     .isOk());
    }
};

QTEST_GUILESS_MAIN(TestDatasetFiles)
#include "test-dataset-files.moc"
