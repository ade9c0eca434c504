// BenchRepo tests: a bench run and its environment read back after a reopen; samples keep their
// order across appends; summaries match closed forms (values 1..n: mean = median = (n+1)/2,
// population stddev = sqrt((n^2-1)/12), nearest-rank p5/p95 = ceil(0.05n)-th/ceil(0.95n)-th)
// and are stored; history is newest first and filters by suite; invalid input writes nothing.
#include "moe-projects/project-store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace moe::projects;

namespace {

BenchEnvironment environment(const std::string& suite) {
    BenchEnvironment env;
    env.suite = suite;
    env.gpu = "NVIDIA H100 80GB HBM3";
    env.driver = "560.35.03";
    env.backend = "cuda";
    env.buildCommit = "83d8092";
    env.environmentJson = R"({"threads":16,"os":"Debian 12"})";
    return env;
}

} // namespace

class TestStoreBench : public QObject {
    Q_OBJECT

private slots:
    void runAndEnvironmentReadBack();
    void samplesKeepOrderAcrossAppends();
    void summariesMatchClosedForms_data();
    void summariesMatchClosedForms();
    void historyNewestFirstBySuite();
    void rejectsInvalidInput_data();
    void rejectsInvalidInput();
};

void TestStoreBench::runAndEnvironmentReadBack() {
    QTemporaryDir tmp;
    int64_t run = 0, modelId = 0;
    {
        auto store = ProjectStore::create(tmp.path().toStdString(), "bench");
        QVERIFY(store.isOk());
        ModelRecord m;
        m.path = "/m.gguf";
        m.contentHash = "fp1:m";
        modelId = *(*store)->addModel(m);
        auto id = (*store)->bench().begin(environment("decode"), R"({"tokens":256})", modelId);
        QVERIFY2(id.isOk(), id.status().toString().c_str());
        run = *id;
        QVERIFY((*store)->trainingRuns().finish(run, "completed", "{}").isOk());
    }
    auto store = ProjectStore::open(tmp.path().toStdString(), ProjectStore::OpenMode::ReadOnly);
    QVERIFY(store.isOk());
    auto history = (*store)->bench().history();
    QVERIFY(history.isOk());
    QCOMPARE(history->size(), size_t(1));
    const BenchRunRecord& r = history->front();
    const BenchEnvironment want = environment("decode");
    QCOMPARE(r.runId, run);
    QCOMPARE(r.status, std::string("completed"));
    QCOMPARE(r.startedAt.size(), size_t(24));
    QCOMPARE(r.environment.suite, want.suite);
    QCOMPARE(r.environment.gpu, want.gpu);
    QCOMPARE(r.environment.driver, want.driver);
    QCOMPARE(r.environment.backend, want.backend);
    QCOMPARE(r.environment.buildCommit, want.buildCommit);
    QCOMPARE(r.environment.environmentJson, want.environmentJson);
    auto summary = (*store)->trainingRuns().run(run);
    QCOMPARE(summary->kind, std::string("bench"));
    QCOMPARE(summary->modelId, std::optional<int64_t>(modelId));
    QCOMPARE(summary->configJson, std::string(R"({"tokens":256})"));
}

void TestStoreBench::samplesKeepOrderAcrossAppends() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "bench");
    QVERIFY(store.isOk());
    BenchRepo& bench = (*store)->bench();
    const int64_t run = *bench.begin(environment("decode"), "");
    const std::vector<double> first = {91.5, 88.25, 93.0};
    const std::vector<double> second = {90.0, 87.5};
    QVERIFY(bench.addSamples(run, "decode_tok_s", first).isOk());
    QVERIFY(bench.addSamples(run, "ttft_ms", std::vector<double>{12.5}).isOk());
    QVERIFY(bench.addSamples(run, "decode_tok_s", second).isOk());
    auto got = bench.samples(run, "decode_tok_s");
    QVERIFY(got.isOk());
    QCOMPARE(*got, (std::vector<double>{91.5, 88.25, 93.0, 90.0, 87.5}));
    QCOMPARE(*bench.samples(run, "ttft_ms"), std::vector<double>{12.5});
    QCOMPARE(bench.samples(run, "nothing")->size(), size_t(0));
}

void TestStoreBench::summariesMatchClosedForms_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<double>("p5");
    QTest::addColumn<double>("p95");
    // Nearest rank: the ceil(p/100 * n)-th smallest, at least the first.
    QTest::newRow("n=1") << 1 << 1.0 << 1.0;
    QTest::newRow("n=4") << 4 << 1.0 << 4.0;
    QTest::newRow("n=20") << 20 << 1.0 << 19.0;
    QTest::newRow("n=101") << 101 << 6.0 << 96.0;
}

void TestStoreBench::summariesMatchClosedForms() {
    QFETCH(int, n);
    QFETCH(double, p5);
    QFETCH(double, p95);
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "bench");
    QVERIFY(store.isOk());
    BenchRepo& bench = (*store)->bench();
    const int64_t run = *bench.begin(environment("decode"), "");
    // 1..n out of order (odd values descending, then even ones), so the summary has to sort.
    std::vector<double> values;
    for (int i = n; i >= 1; i -= 2)
        values.push_back(i);
    for (int i = n - 1; i >= 1; i -= 2)
        values.push_back(i);
    QVERIFY(bench.addSamples(run, "tok_s", values).isOk());
    QVERIFY(bench.addSamples(run, "constant", std::vector<double>(3, 2.5)).isOk());
    auto computed = bench.summarize(run, {{"tok_s", "tok/s"}});
    QVERIFY2(computed.isOk(), computed.status().toString().c_str());
    auto stored = bench.summaries(run);
    QVERIFY(stored.isOk());
    QCOMPARE(stored->size(), size_t(2));
    // Ordered by metric name.
    const BenchSummary& c = (*stored)[0];
    QCOMPARE(c.metric, std::string("constant"));
    QCOMPARE(c.unit, std::string());
    QCOMPARE(c.count, int64_t(3));
    QCOMPARE(c.mean, 2.5);
    QCOMPARE(c.stddev, 0.0);
    const BenchSummary& s = (*stored)[1];
    QCOMPARE(s.metric, std::string("tok_s"));
    QCOMPARE(s.unit, std::string("tok/s"));
    QCOMPARE(s.count, int64_t(n));
    const double dn = n;
    QVERIFY(std::abs(s.mean - (dn + 1) / 2) < 1e-12);
    QCOMPARE(s.median, (dn + 1) / 2);
    QVERIFY(std::abs(s.stddev - std::sqrt((dn * dn - 1) / 12)) < 1e-9);
    QCOMPARE(s.p5, p5);
    QCOMPARE(s.p95, p95);
    QCOMPARE((*computed)[1].p95, s.p95);
    // Summarizing again replaces, never duplicates.
    QVERIFY(bench.summarize(run).isOk());
    QCOMPARE(bench.summaries(run)->size(), size_t(2));
    QCOMPARE(bench.summaries(run)->at(1).unit, std::string());
}

void TestStoreBench::historyNewestFirstBySuite() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "bench");
    QVERIFY(store.isOk());
    BenchRepo& bench = (*store)->bench();
    const int64_t d1 = *bench.begin(environment("decode"), "");
    const int64_t p1 = *bench.begin(environment("prefill"), "");
    const int64_t d2 = *bench.begin(environment("decode"), "");
    QVERIFY((*store)->trainingRuns().begin("finetune", "").isOk()); // not a bench run
    auto all = bench.history();
    QVERIFY(all.isOk());
    QCOMPARE(all->size(), size_t(3));
    QCOMPARE(all->at(0).runId, d2);
    QCOMPARE(all->at(1).runId, p1);
    QCOMPARE(all->at(2).runId, d1);
    auto decode = bench.history(std::string("decode"));
    QCOMPARE(decode->size(), size_t(2));
    QCOMPARE(decode->at(0).runId, d2);
    QCOMPARE(decode->at(1).runId, d1);
    QCOMPARE(bench.history(std::string("moe-routing"))->size(), size_t(0));
}

void TestStoreBench::rejectsInvalidInput_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("mentions");
    using moe::StatusCode;
    QTest::newRow("empty suite") << "emptySuite" << int(StatusCode::InvalidArgument) << "suite";
    QTest::newRow("bad environment json")
        << "badEnvJson" << int(StatusCode::InvalidArgument) << "environment_json";
    QTest::newRow("bad config json")
        << "badConfig" << int(StatusCode::InvalidArgument) << "config_json";
    QTest::newRow("missing model")
        << "missingModel" << int(StatusCode::NotFound) << "no model with id 404";
    QTest::newRow("samples of missing run")
        << "samplesMissingRun" << int(StatusCode::NotFound) << "no run with id 404";
    QTest::newRow("empty metric") << "emptyMetric" << int(StatusCode::InvalidArgument) << "metric";
    QTest::newRow("nan sample") << "nanSample" << int(StatusCode::InvalidArgument)
                                << "sample 2 of 'tok_s' is not a finite number";
}

void TestStoreBench::rejectsInvalidInput() {
    QFETCH(QString, action);
    QFETCH(int, code);
    QFETCH(QString, mentions);
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "bench");
    QVERIFY(store.isOk());
    BenchRepo& bench = (*store)->bench();
    const int64_t run = *bench.begin(environment("decode"), "");
    BenchEnvironment env = environment("decode");
    moe::Status status;
    if (action == "emptySuite") {
        env.suite.clear();
        status = bench.begin(env, "").status();
    } else if (action == "badEnvJson") {
        env.environmentJson = "{threads";
        status = bench.begin(env, "").status();
    } else if (action == "badConfig") {
        status = bench.begin(env, "[").status();
    } else if (action == "missingModel") {
        status = bench.begin(env, "", 404).status();
    } else if (action == "samplesMissingRun") {
        status = bench.addSamples(404, "tok_s", std::vector<double>{1.0});
    } else if (action == "emptyMetric") {
        status = bench.addSamples(run, "", std::vector<double>{1.0});
    } else if (action == "nanSample") {
        status = bench.addSamples(run, "tok_s", std::vector<double>{1.0, 2.0, std::nan("")});
    } else {
        QFAIL("unknown action");
    }
    QVERIFY(!status.isOk());
    QCOMPARE(int(status.code()), code);
    QVERIFY2(QString::fromStdString(status.message()).contains(mentions), status.message().c_str());
    QCOMPARE(bench.history()->size(), size_t(1));
    QCOMPARE((*store)->trainingRuns().history()->size(), size_t(1));
    QCOMPARE(bench.samples(run, "tok_s")->size(), size_t(0)); // the batch is all or nothing
    QVERIFY((*store)->checkIntegrity().isOk());
}

QTEST_GUILESS_MAIN(TestStoreBench)
#include "test-store-bench.moc"
