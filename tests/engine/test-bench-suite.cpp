// Benchmark suite files (moe/bench-suite.h): every kind of mistake is refused naming the suite
// file and the field; relative data paths resolve against the suite's folder, not the working
// folder; a kl entry without a file takes the perplexity entry's text and windows; running a suite
// twice gives identical quality numbers and details (deterministic); metric names are the ones
// the project database and the report writer use.
#include "moe/bench-suite.h"
#include "moe/model-factory.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace moe;

class TestBenchSuite : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model, m_q8;

    std::string path(const std::string& rel) const {
        return m_dir.path().toStdString() + "/" + rel;
    }
    void write(const std::string& rel, const std::string& text) const {
        std::ofstream(path(rel)) << text;
    }

    // A suite in suites/ over data in suites/data/.
    std::string fullSuite(const std::string& klReference) const {
        nlohmann::json s = {
            {"name", "full"},
            {"quality",
             {{{"type", "perplexity"}, {"file", "data/wiki.txt"}, {"context", 48}, {"stride", 24}},
              {{"type", "kl"}, {"reference", klReference}},
              {{"type", "choice"}, {"file", "data/mc.jsonl"}},
              {{"type", "generation"},
               {"file", "data/gen.jsonl"},
               {"scoring", "contains"},
               {"max_tokens", 6}},
              {{"type", "routing"},
               {"domains", {{"code", "data/code.txt"}, {"prose", "data/wiki.txt"}}},
               {"context", 32}}}}};
        return s.dump(1);
    }

private slots:
    void initTestCase() {
        QVERIFY(QDir(m_dir.path()).mkpath("suites/data"));
        RandomModelOptions o;
        o.seed = 5;
        QVERIFY(writeRandomModel(o, path("m.gguf")).isOk());
        o.type = "q8_0";
        QVERIFY(writeRandomModel(o, path("suites/q8.gguf")).isOk());
        m_model = *Model::load(path("m.gguf"));
        m_q8 = *Model::load(path("suites/q8.gguf"));
        write("suites/data/wiki.txt",
              "Experts are chosen per token by a router. The router is a linear layer. "
              "Load balancing keeps every expert in use across a batch of text.");
        write("suites/data/code.txt",
              "int main() { return 0; }\nfor (int i = 0; i < n; ++i) sum += i;\n");
        write("suites/data/mc.jsonl",
              R"({"question": "Two plus two is", "choices": ["four", "seven"], "answer": 0}
{"question": "The sky is", "choices": ["blue", "a fish"], "answer": "B"}
)");
        write("suites/data/gen.jsonl", R"({"prompt": "Say yes:", "answer": "yes"}
{"prompt": "1 2 3", "answer": 4}
)");
    }

    void errors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("problem");
        QTest::newRow("not json") << "{\n  \"name\": \"x\",\n  oops\n}"
                                  << "s.json:3:";
        QTest::newRow("not an object") << "[1]"
                                       << "(top level): expected an object";
        QTest::newRow("unknown top field") << R"({"name":"x","qualty":[]})"
                                           << "qualty: unknown field";
        QTest::newRow("nothing to run") << R"({"name":"x"})"
                                        << "nothing to run";
        QTest::newRow("speed field") << R"({"speed":{"prompt_tokens":[128,"x"]}})"
                                     << "speed.prompt_tokens[1]: expected an integer";
        QTest::newRow("repetitions") << R"({"speed":{"repetitions":0}})"
                                     << "speed.repetitions: expected an integer between 1 and 1000";
        QTest::newRow("speed typo") << R"({"speed":{"gen":[1]}})"
                                    << "speed.gen: unknown field";
        QTest::newRow("quality not array") << R"({"quality":{}})"
                                           << "quality: expected an array";
        QTest::newRow("type") << R"({"quality":[{"type":"bleu"}]})"
                              << "quality[0].type: \"bleu\" is not one of";
        QTest::newRow("no type") << R"({"quality":[{"file":"data/wiki.txt"}]})"
                                 << "quality[0].type: missing";
        QTest::newRow("missing file")
            << R"({"quality":[{"type":"perplexity","file":"data/none.txt"}]})"
            << "quality[0].file: \"data/none.txt\": no such file";
        QTest::newRow("file required") << R"({"quality":[{"type":"choice"}]})"
                                       << "quality[0].file: missing";
        QTest::newRow("stride")
            << R"({"quality":[{"type":"perplexity","file":"data/wiki.txt","context":64,"stride":65}]})"
            << "quality[0].stride: expected an integer between 1 and the context (64), got 65";
        QTest::newRow("context")
            << R"({"quality":[{"type":"perplexity","file":"data/wiki.txt","context":"big"}]})"
            << "quality[0].context: expected an integer >= 2, got \"big\"";
        QTest::newRow("field of another type")
            << R"({"quality":[{"type":"choice","file":"data/mc.jsonl","stride":2}]})"
            << "quality[0].stride: unknown field";
        QTest::newRow("kl without text") << R"({"quality":[{"type":"kl","reference":"base"}]})"
                                         << "quality[0].file: missing";
        QTest::newRow("scoring")
            << R"({"quality":[{"type":"generation","file":"data/gen.jsonl","scoring":"bleu"}]})"
            << "quality[0].scoring: \"bleu\" is not one of exact_match, contains, regex";
        QTest::newRow("until")
            << R"({"quality":[{"type":"generation","file":"data/gen.jsonl","until":[1]}]})"
            << "quality[0].until";
        QTest::newRow("chat")
            << R"({"quality":[{"type":"generation","file":"data/gen.jsonl","chat":"yes"}]})"
            << "quality[0].chat: expected true or false";
        QTest::newRow("routing no domains") << R"({"quality":[{"type":"routing"}]})"
                                            << "quality[0].domains: missing";
        QTest::newRow("routing domain file")
            << R"({"quality":[{"type":"routing","domains":{"law":"data/law.txt"}}]})"
            << "quality[0].domains.law: \"data/law.txt\": no such file";
        QTest::newRow("second entry")
            << R"({"quality":[{"type":"choice","file":"data/mc.jsonl"},{"type":"choice","file":"x"}]})"
            << "quality[1].file";
    }

    void errors() {
        QFETCH(QString, json);
        QFETCH(QString, problem);
        write("suites/s.json", json.toStdString());
        auto r = loadBenchSuite(path("suites/s.json"));
        QVERIFY(!r.isOk());
        const QString msg = QString::fromStdString(r.status().message());
        QVERIFY2(msg.contains(problem), qPrintable(msg));
        QVERIFY2(msg.startsWith(QString::fromStdString(path("suites/s.json"))), qPrintable(msg));
    }

    void pathsResolveAgainstTheSuiteFolder() {
        write("suites/full.json", fullSuite("q8.gguf"));
        const QString cwd = QDir::currentPath();
        QDir::setCurrent(QDir::tempPath()); // not the suite's folder
        auto r = loadBenchSuite(path("suites/full.json"));
        QDir::setCurrent(cwd);
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->name, std::string("full"));
        QVERIFY(!r->hasSpeed);
        QCOMPARE(r->quality.size(), size_t(5));
        QCOMPARE(r->quality[0].file, path("suites/data/wiki.txt"));
        QCOMPARE(r->quality[0].name, std::string("perplexity:wiki.txt"));
        // kl: the perplexity entry's text and windows, the reference beside the suite.
        QCOMPARE(r->quality[1].file, path("suites/data/wiki.txt"));
        QCOMPARE(r->quality[1].window.context, 48);
        QCOMPARE(r->quality[1].window.stride, 24);
        QCOMPARE(r->quality[1].reference, path("suites/q8.gguf"));
        QCOMPARE(r->quality[3].generation.scoring, std::string("contains"));
        QCOMPARE(r->quality[3].generation.maxTokens, 6);
        QCOMPARE(r->quality[4].domains.size(), size_t(2));
        QCOMPARE(r->quality[4].domains[0].file, path("suites/data/code.txt"));
    }

    void speedDefaultsAndNames() {
        auto r = parseBenchSuite(
            R"({"speed":{"prompt_tokens":[8],"gen_tokens":[4],"batch":[1,2],"repetitions":1,"warmup":0}})",
            path("suites/quick.json"));
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->name, std::string("quick")); // the file's stem
        auto run = runBenchSuite(*r, m_model, {});
        QVERIFY2(run.isOk(), run.status().message().c_str());
        std::vector<std::string> names;
        for (const BenchPoint& p : run->speed.points)
            names.push_back(benchMetricName(p));
        const std::vector<std::string> expected = {"pp8_tok_s", "ttft8_ms", "tg4_tok_s", "itl4_ms",
                                                   "tg4_b2_tok_s"};
        QCOMPARE(names, expected);
        QCOMPARE(run->speed.points[3].samples.size(), size_t(4)); // one per decoded token
    }

    void rerunGivesIdenticalQualityNumbers() {
        write("suites/full.json", fullSuite("q8.gguf"));
        auto suite = loadBenchSuite(path("suites/full.json"));
        QVERIFY2(suite.isOk(), suite.status().message().c_str());
        SuiteRunOptions opts;
        opts.resolveReference =
            [&](const std::string& ref) -> Result<std::shared_ptr<const Model>> {
            if (ref == path("suites/q8.gguf")) return m_q8;
            return Status(StatusCode::NotFound, ref);
        };
        auto a = runBenchSuite(*suite, m_model, opts);
        auto b = runBenchSuite(*suite, m_model, opts);
        QVERIFY2(a.isOk(), a.status().message().c_str());
        QVERIFY(b.isOk());
        QCOMPARE(a->quality.size(), size_t(5));
        const std::vector<std::vector<std::string>> metrics = {
            {"ppl", "nll_mean"},
            {"kl_mean", "kl_p95", "top1_agreement"},
            {"acc", "acc_norm"},
            {"contains"},
            {"entropy_mean"}};
        const std::vector<std::string> types = {"perplexity", "kl", "choice", "generation",
                                                "routing"};
        for (size_t i = 0; i < a->quality.size(); ++i) {
            QCOMPARE(a->quality[i].type, types[i]);
            QCOMPARE(a->quality[i].metrics.size(), metrics[i].size());
            for (size_t m = 0; m < metrics[i].size(); ++m) {
                QCOMPARE(a->quality[i].metrics[m].first, metrics[i][m]);
                QCOMPARE(a->quality[i].metrics[m].second, b->quality[i].metrics[m].second);
            }
            QCOMPARE(a->quality[i].detailsJson, b->quality[i].detailsJson);
            QCOMPARE(a->quality[i].sampleCount, b->quality[i].sampleCount);
        }
        QVERIFY(a->quality[1].metrics[0].second > 0); // the Q8 copy differs a little
        QVERIFY(a->quality[1].metrics[2].second <= 1.0);
        QVERIFY(!a->quality[2].lmEvalJson.empty());
        const auto routing = nlohmann::json::parse(a->quality[4].detailsJson);
        QCOMPARE(routing["layers"].get<int>(), m_model->spec().nLayer);
        QCOMPARE(routing["experts"].get<int>(), m_model->spec().nExpert);
        QCOMPARE(routing["share"].size(), size_t(m_model->spec().nLayer));
        QCOMPARE(routing["share"][0].size(), size_t(m_model->spec().nExpert));
        QVERIFY(routing["domains"].contains("code") && routing["domains"].contains("prose"));
        QCOMPARE(routing["domains"]["code"]["affinity"].size(), size_t(m_model->spec().nLayer));
        const auto ppl = nlohmann::json::parse(a->quality[0].detailsJson);
        QCOMPARE(ppl["stride"].get<int>(), 24);
        QCOMPARE(ppl["token_nll"].size(), size_t(a->quality[0].sampleCount));
    }

    void klAgainstItselfIsRecordedWithoutRunning() {
        write("suites/self.json",
              R"({"quality":[{"type":"kl","file":"data/wiki.txt","reference":"base"}]})");
        auto suite = loadBenchSuite(path("suites/self.json"));
        QVERIFY(suite.isOk());
        SuiteRunOptions opts;
        opts.resolveReference = [&](const std::string&) -> Result<std::shared_ptr<const Model>> {
            return m_model;
        };
        auto r = runBenchSuite(*suite, m_model, opts);
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->quality[0].metrics[0].second, 0.0);
        QCOMPARE(r->quality[0].metrics[2].second, 1.0);
        QVERIFY(nlohmann::json::parse(r->quality[0].detailsJson)["reference_is_self"].get<bool>());
        // Without a resolver the entry fails, naming it.
        auto none = runBenchSuite(*suite, m_model, {});
        QVERIFY(!none.isOk());
        QVERIFY2(none.status().message().find("quality[0] (kl:wiki.txt)") != std::string::npos,
                 none.status().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestBenchSuite)
#include "test-bench-suite.moc"
