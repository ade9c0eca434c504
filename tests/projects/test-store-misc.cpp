// DatasetRepo, ComparisonRepo, EvalRepo and ReportRepo tests: records read back field for field
// after a reopen; datasets deduplicate by (path, hash); comparison outputs come back per prompt
// and version (prompt index, then version id) and a cell is replaced, not duplicated; evals are
// newest first and filter by version; reports newest first. Invalid input (foreign keys,
// out-of-range prompt index, unknown formats, bad JSON) fails naming it and writes nothing.
#include "moe-projects/project-store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace moe::projects;

namespace {

DatasetRecord dataset(const std::string& path, const std::string& hash) {
    DatasetRecord d;
    d.path = path;
    d.name = "alpaca-mini";
    d.contentHash = hash;
    d.format = "jsonl";
    d.rowCount = 52002;
    d.tokenCount = 9876543210;
    return d;
}

// "p<prompt> v<version>" (appended piecewise: GCC 12 raises a false -Wrestrict on chained +).
std::string cellText(int prompt, int64_t version) {
    std::string text = "p";
    text += std::to_string(prompt);
    text += " v";
    text += std::to_string(version);
    return text;
}

struct Fixture {
    QTemporaryDir tmp;
    std::unique_ptr<ProjectStore> store;
    int64_t modelId = 0, base = 0, adapter = 0;

    bool make() {
        auto created = ProjectStore::create(tmp.path().toStdString(), "misc");
        if (!created) return false;
        store = std::move(*created);
        ModelRecord m;
        m.path = "/models/a.gguf";
        m.contentHash = "fp1:a";
        modelId = *store->addModel(m);
        base = store->modelVersions().baseVersion(modelId)->id;
        ModelVersionRecord v;
        v.kind = "adapter";
        adapter = *store->modelVersions().addDerived(base, v);
        return true;
    }
    bool reopen() {
        store.reset();
        auto opened = ProjectStore::open(tmp.path().toStdString());
        if (!opened) return false;
        store = std::move(*opened);
        return true;
    }
};

} // namespace

class TestStoreMisc : public QObject {
    Q_OBJECT

private slots:
    void datasetsReadBackAndDeduplicate();
    void comparisonOutputsPerPromptAndVersion();
    void evalsNewestFirstByVersion();
    void reportsReadBack();
    void rejectsInvalidInput_data();
    void rejectsInvalidInput();
};

void TestStoreMisc::datasetsReadBackAndDeduplicate() {
    Fixture f;
    QVERIFY(f.make());
    DatasetRepo* repo = &f.store->datasets();
    auto first = repo->add(dataset("/data/a.jsonl", "fp1:1"));
    QVERIFY2(first.isOk(), first.status().toString().c_str());
    DatasetRecord changedCounts = dataset("/data/a.jsonl", "fp1:1");
    changedCounts.rowCount = 1;
    QCOMPARE(*repo->add(changedCounts), *first);
    const int64_t edited = *repo->add(dataset("/data/a.jsonl", "fp1:2"));
    QVERIFY(edited != *first);
    QVERIFY(f.reopen());
    repo = &f.store->datasets();
    auto d = repo->dataset(*first);
    QVERIFY(d.isOk());
    const DatasetRecord want = dataset("/data/a.jsonl", "fp1:1");
    QCOMPARE(d->id, *first);
    QCOMPARE(d->path, want.path);
    QCOMPARE(d->name, want.name);
    QCOMPARE(d->contentHash, want.contentHash);
    QCOMPARE(d->format, want.format);
    QCOMPARE(d->rowCount, want.rowCount); // not changed by the second add
    QCOMPARE(d->tokenCount, want.tokenCount);
    QCOMPARE(d->addedAt.size(), size_t(24));
    auto list = repo->list();
    QCOMPARE(list->size(), size_t(2));
    QCOMPARE(list->at(1).id, edited);
    QCOMPARE(repo->dataset(999).status().code(), moe::StatusCode::NotFound);
}

void TestStoreMisc::comparisonOutputsPerPromptAndVersion() {
    Fixture f;
    QVERIFY(f.make());
    const std::vector<std::string> prompts = {"Why is the sky blue?", "2+2=",
                                              "Translate \xE2\x80\x9C"
                                              "bonjour\xE2\x80\x9D"};
    auto id = f.store->comparisons().create("colors", prompts, R"({"temperature":0})");
    QVERIFY2(id.isOk(), id.status().toString().c_str());
    ComparisonRepo& repo = f.store->comparisons();
    // Written out of order; (prompt 1, adapter) written twice.
    for (const int prompt : {2, 0, 1}) {
        for (const int64_t version : {f.adapter, f.base}) {
            ComparisonOutput o;
            o.comparisonId = *id;
            o.promptIndex = prompt;
            o.versionId = version;
            o.output = cellText(prompt, version);
            o.statsJson = R"({"tokens":12,"tok_s":80.5})";
            QVERIFY(repo.setOutput(o).isOk());
        }
    }
    ComparisonOutput again;
    again.comparisonId = *id;
    again.promptIndex = 1;
    again.versionId = f.adapter;
    again.output = "replaced";
    QVERIFY(repo.setOutput(again).isOk());
    QVERIFY(f.reopen());
    ComparisonRepo& reread = f.store->comparisons();
    auto c = reread.comparison(*id);
    QVERIFY(c.isOk());
    QCOMPARE(c->name, std::string("colors"));
    QCOMPARE(c->prompts, prompts);
    QCOMPARE(c->samplingJson, std::string(R"({"temperature":0})"));
    QCOMPARE(c->createdAt.size(), size_t(24));
    QCOMPARE(reread.list()->size(), size_t(1));
    auto cells = reread.outputs(*id);
    QVERIFY(cells.isOk());
    QCOMPARE(cells->size(), size_t(6));
    for (size_t i = 0; i < cells->size(); ++i) {
        const ComparisonOutput& o = (*cells)[i];
        QCOMPARE(o.comparisonId, *id);
        QCOMPARE(o.promptIndex, static_cast<int>(i / 2));
        QCOMPARE(o.versionId, i % 2 ? f.adapter : f.base); // base was made first: lower id
        if (o.promptIndex == 1 && o.versionId == f.adapter) {
            QCOMPARE(o.output, std::string("replaced"));
            QCOMPARE(o.statsJson, std::string());
        } else {
            QCOMPARE(o.output, cellText(o.promptIndex, o.versionId));
            QCOMPARE(o.statsJson, std::string(R"({"tokens":12,"tok_s":80.5})"));
        }
    }
}

void TestStoreMisc::evalsNewestFirstByVersion() {
    Fixture f;
    QVERIFY(f.make());
    const int64_t data = *f.store->datasets().add(dataset("/data/eval.jsonl", "fp1:e"));
    const int64_t run = *f.store->trainingRuns().begin("eval", "{}", f.modelId, data);
    EvalResultRecord ppl;
    ppl.runId = run;
    ppl.versionId = f.base;
    ppl.datasetId = data;
    ppl.eval = "perplexity";
    ppl.metric = "ppl";
    ppl.value = 7.125;
    ppl.sampleCount = 512;
    ppl.detailsJson = R"({"ctx":2048})";
    const int64_t first = *f.store->evals().add(ppl);
    EvalResultRecord acc;
    acc.versionId = f.adapter;
    acc.eval = "choice";
    acc.metric = "accuracy";
    acc.value = 0.625;
    const int64_t second = *f.store->evals().add(acc);
    QVERIFY(f.reopen());
    auto all = f.store->evals().list();
    QVERIFY(all.isOk());
    QCOMPARE(all->size(), size_t(2));
    QCOMPARE(all->at(0).id, second);
    const EvalResultRecord& e = all->at(1);
    QCOMPARE(e.id, first);
    QCOMPARE(e.runId, std::optional<int64_t>(run));
    QCOMPARE(e.versionId, std::optional<int64_t>(f.base));
    QCOMPARE(e.datasetId, std::optional<int64_t>(data));
    QCOMPARE(e.eval, ppl.eval);
    QCOMPARE(e.metric, ppl.metric);
    QCOMPARE(e.value, ppl.value);
    QCOMPARE(e.sampleCount, ppl.sampleCount);
    QCOMPARE(e.detailsJson, ppl.detailsJson);
    QCOMPARE(e.createdAt.size(), size_t(24));
    QVERIFY(!all->at(0).runId && !all->at(0).datasetId);
    auto ofBase = f.store->evals().list(f.base);
    QCOMPARE(ofBase->size(), size_t(1));
    QCOMPARE(ofBase->front().id, first);
}

void TestStoreMisc::reportsReadBack() {
    Fixture f;
    QVERIFY(f.make());
    ReportRecord r;
    r.title = "Bench week 12";
    r.format = "html";
    r.path = "reports/2026/week-12.html";
    r.sourceJson = R"({"runs":[1,2]})";
    const int64_t first = *f.store->reports().add(r);
    r.title = "CSV";
    r.format = "csv";
    r.path = "reports/x.csv";
    r.sourceJson.clear();
    const int64_t second = *f.store->reports().add(r);
    QVERIFY(f.reopen());
    auto list = f.store->reports().list();
    QVERIFY(list.isOk());
    QCOMPARE(list->size(), size_t(2));
    QCOMPARE(list->at(0).id, second);
    const ReportRecord& got = list->at(1);
    QCOMPARE(got.id, first);
    QCOMPARE(got.title, std::string("Bench week 12"));
    QCOMPARE(got.format, std::string("html"));
    QCOMPARE(got.path, std::string("reports/2026/week-12.html"));
    QCOMPARE(got.sourceJson, std::string(R"({"runs":[1,2]})"));
    QCOMPARE(got.createdAt.size(), size_t(24));
}

void TestStoreMisc::rejectsInvalidInput_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("mentions");
    using moe::StatusCode;
    const int bad = int(StatusCode::InvalidArgument);
    const int missing = int(StatusCode::NotFound);
    QTest::newRow("dataset without hash") << "datasetNoHash" << bad << "content hash";
    QTest::newRow("dataset without path") << "datasetNoPath" << bad << "path";
    QTest::newRow("comparison without prompts") << "noPrompts" << bad << "prompt set is empty";
    QTest::newRow("comparison bad sampling") << "badSampling" << bad << "sampling_json";
    QTest::newRow("output of missing comparison")
        << "outputMissingComparison" << missing << "no comparison with id 404";
    QTest::newRow("output prompt index past the set")
        << "outputIndexHigh" << bad << "has 2 prompts; prompt index 2 is outside";
    QTest::newRow("output negative prompt index")
        << "outputIndexNegative" << bad << "prompt index -1 is outside";
    QTest::newRow("output of missing version")
        << "outputMissingVersion" << missing << "no model version with id 404";
    QTest::newRow("output bad stats") << "outputBadStats" << bad << "stats_json";
    QTest::newRow("eval without metric") << "evalNoMetric" << bad << "eval and metric";
    QTest::newRow("eval missing run") << "evalMissingRun" << missing << "no run with id 404";
    QTest::newRow("eval missing version")
        << "evalMissingVersion" << missing << "no model version with id 404";
    QTest::newRow("eval missing dataset")
        << "evalMissingDataset" << missing << "no dataset with id 404";
    QTest::newRow("eval bad details") << "evalBadJson" << bad << "details_json";
    QTest::newRow("report unknown format") << "reportFormat" << bad << "format 'docx'";
    QTest::newRow("report without path") << "reportNoPath" << bad << "title and path";
    QTest::newRow("report bad source") << "reportBadJson" << bad << "source_json";
}

void TestStoreMisc::rejectsInvalidInput() {
    QFETCH(QString, action);
    QFETCH(int, code);
    QFETCH(QString, mentions);
    Fixture f;
    QVERIFY(f.make());
    ProjectStore& s = *f.store;
    const int64_t comparison = *s.comparisons().create("c", {"a", "b"});
    ComparisonOutput out;
    out.comparisonId = comparison;
    out.versionId = f.base;
    out.output = "x";
    EvalResultRecord eval;
    eval.eval = "kl";
    eval.metric = "kl";
    ReportRecord report;
    report.title = "t";
    report.format = "md";
    report.path = "reports/t.md";
    moe::Status status;
    if (action == "datasetNoHash")
        status = s.datasets().add(dataset("/d", "")).status();
    else if (action == "datasetNoPath")
        status = s.datasets().add(dataset("", "fp1:d")).status();
    else if (action == "noPrompts")
        status = s.comparisons().create("empty", {}).status();
    else if (action == "badSampling")
        status = s.comparisons().create("c", {"a"}, "{").status();
    else if (action == "outputMissingComparison") {
        out.comparisonId = 404;
        status = s.comparisons().setOutput(out);
    } else if (action == "outputIndexHigh") {
        out.promptIndex = 2;
        status = s.comparisons().setOutput(out);
    } else if (action == "outputIndexNegative") {
        out.promptIndex = -1;
        status = s.comparisons().setOutput(out);
    } else if (action == "outputMissingVersion") {
        out.versionId = 404;
        status = s.comparisons().setOutput(out);
    } else if (action == "outputBadStats") {
        out.statsJson = "{tokens:1}";
        status = s.comparisons().setOutput(out);
    } else if (action == "evalNoMetric") {
        eval.metric.clear();
        status = s.evals().add(eval).status();
    } else if (action == "evalMissingRun") {
        eval.runId = 404;
        status = s.evals().add(eval).status();
    } else if (action == "evalMissingVersion") {
        eval.versionId = 404;
        status = s.evals().add(eval).status();
    } else if (action == "evalMissingDataset") {
        eval.datasetId = 404;
        status = s.evals().add(eval).status();
    } else if (action == "evalBadJson") {
        eval.detailsJson = "nope";
        status = s.evals().add(eval).status();
    } else if (action == "reportFormat") {
        report.format = "docx";
        status = s.reports().add(report).status();
    } else if (action == "reportNoPath") {
        report.path.clear();
        status = s.reports().add(report).status();
    } else if (action == "reportBadJson") {
        report.sourceJson = "[";
        status = s.reports().add(report).status();
    } else {
        QFAIL("unknown action");
    }
    QVERIFY(!status.isOk());
    QCOMPARE(int(status.code()), code);
    QVERIFY2(QString::fromStdString(status.message()).contains(mentions), status.message().c_str());
    QCOMPARE(s.datasets().list()->size(), size_t(0));
    QCOMPARE(s.comparisons().list()->size(), size_t(1));
    QCOMPARE(s.comparisons().outputs(comparison)->size(), size_t(0));
    QCOMPARE(s.evals().list()->size(), size_t(0));
    QCOMPARE(s.reports().list()->size(), size_t(0));
    QVERIFY(s.checkIntegrity().isOk());
}

QTEST_GUILESS_MAIN(TestStoreMisc)
#include "test-store-misc.moc"
