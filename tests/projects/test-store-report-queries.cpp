// The store queries reports read: BenchRepo::run (one bench run and its environment by id, NotFound
// for a run of another kind or no run) and EvalRepo::byRun (a run's eval results in the order
// they were added, none of another run's or of no run).
#include "moe-projects/project-store.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace moe::projects;

class TestStoreReportQueries : public QObject {
    Q_OBJECT

private slots:
    void benchRunById();
    void evalResultsByRun();
};

void TestStoreReportQueries::benchRunById() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "queries");
    QVERIFY(store.isOk());
    BenchEnvironment env{.suite = "speed",
                         .gpu = "NVIDIA H100",
                         .driver = "560.35.03",
                         .backend = "cuda",
                         .buildCommit = "abc1234",
                         .environmentJson = R"({"cpu":"EPYC"})"};
    auto first = (*store)->bench().begin(env, "{}");
    env.suite = "other";
    auto second = (*store)->bench().begin(env, "{}");
    QVERIFY(first.isOk() && second.isOk());
    auto plain = (*store)->trainingRuns().begin("finetune", "{}");
    QVERIFY(plain.isOk());

    auto r = (*store)->bench().run(*first);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(r->runId, *first);
    QCOMPARE(r->status, std::string("running"));
    QCOMPARE(r->environment.suite, std::string("speed"));
    QCOMPARE(r->environment.gpu, std::string("NVIDIA H100"));
    QCOMPARE(r->environment.buildCommit, std::string("abc1234"));
    QCOMPARE(r->environment.environmentJson, std::string(R"({"cpu":"EPYC"})"));
    QCOMPARE((*store)->bench().run(*second)->environment.suite, std::string("other"));

    for (const int64_t bad : {*plain, int64_t(999)}) {
        auto missing = (*store)->bench().run(bad);
        QVERIFY(!missing.isOk());
        QCOMPARE(missing.status().code(), moe::StatusCode::NotFound);
        QVERIFY(missing.status().message().find("bench run with id " + std::to_string(bad)) !=
                std::string::npos);
    }
}

void TestStoreReportQueries::evalResultsByRun() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "queries");
    QVERIFY(store.isOk());
    auto runA = (*store)->trainingRuns().begin("bench", "{}");
    auto runB = (*store)->trainingRuns().begin("bench", "{}");
    QVERIFY(runA.isOk() && runB.isOk());
    auto add = [&](std::optional<int64_t> run, const char* eval, const char* metric, double v) {
        EvalResultRecord e;
        e.runId = run;
        e.eval = eval;
        e.metric = metric;
        e.value = v;
        return (*store)->evals().add(e);
    };
    QVERIFY(add(*runA, "perplexity", "ppl", 12.5).isOk());
    QVERIFY(add(*runB, "kl", "kl_mean", 0.02).isOk());
    QVERIFY(add(*runA, "choice", "acc", 0.75).isOk());
    QVERIFY(add(std::nullopt, "choice", "acc", 0.5).isOk());

    auto a = (*store)->evals().byRun(*runA);
    QVERIFY2(a.isOk(), a.status().toString().c_str());
    QCOMPARE(a->size(), size_t(2));
    QCOMPARE((*a)[0].metric, std::string("ppl"));
    QCOMPARE((*a)[0].value, 12.5);
    QCOMPARE((*a)[1].metric, std::string("acc"));
    QCOMPARE((*a)[1].runId, std::optional<int64_t>(*runA));
    auto b = (*store)->evals().byRun(*runB);
    QCOMPARE(b->size(), size_t(1));
    QCOMPARE(b->front().eval, std::string("kl"));
    QVERIFY((*store)->evals().byRun(999)->empty());
}

QTEST_GUILESS_MAIN(TestStoreReportQueries)
#include "test-store-report-queries.moc"
