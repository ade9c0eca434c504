// TrainingRunRepo tests: a run reads back field for field after a reopen; the state machine
// (queued -> running -> completed | failed | cancelled | interrupted, queued -> cancelled)
// accepts exactly its transitions and rejects the rest naming the run and both states; metrics
// come back in step order, merge repeated steps, keep the run summary and downsample for plots;
// checkpoints and artifacts read back and check their run; the run history is newest first,
// filtered and paged. Every rejected call leaves the tables as they were.
// Goldens are hand-computed from the inputs written here (summaries, downsampled steps).
#include "moe-projects/project-store.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace moe::projects;

namespace {

bool isTimestamp(const std::string& text) {
    static const QRegularExpression kIso(
        QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"));
    return kIso.match(QString::fromStdString(text)).hasMatch();
}

std::unique_ptr<ProjectStore> newStore(const QTemporaryDir& tmp) {
    auto store = ProjectStore::create(tmp.path().toStdString(), "training");
    return store ? std::move(*store) : nullptr;
}

int64_t addModel(ProjectStore& store) {
    ModelRecord model;
    model.path = "/models/tiny.gguf";
    model.contentHash = "fp1:tiny";
    return *store.addModel(model);
}

int64_t addDataset(ProjectStore& store) {
    DatasetRecord d;
    d.path = "/data/train.jsonl";
    d.contentHash = "fp1:data";
    return *store.datasets().add(d);
}

MetricRow lossRow(int64_t step, double loss) {
    MetricRow r;
    r.step = step;
    r.loss = loss;
    return r;
}

// Counts of the rows a run can own, to prove a rejected call wrote nothing.
struct Counts {
    size_t runs = 0, metrics = 0, checkpoints = 0, artifacts = 0;
    bool operator==(const Counts&) const = default;
};

Counts countRows(ProjectStore& store, int64_t runId) {
    Counts c;
    c.runs = store.trainingRuns().history()->size();
    c.metrics = store.trainingRuns().metrics(runId)->size();
    c.checkpoints = store.trainingRuns().checkpoints(runId)->size();
    c.artifacts = store.trainingRuns().artifacts()->size();
    return c;
}

} // namespace

class TestStoreTraining : public QObject {
    Q_OBJECT

private slots:
    void runReadsBackEveryField();
    void stateMachine_data();
    void stateMachine();
    void rejectsInvalidRuns_data();
    void rejectsInvalidRuns();
    void metricsInStepOrderWithMerge();
    void metricsDownsampleForPlots();
    void metricsRejectedAfterFinish();
    void checkpointsAndArtifacts();
    void historyNewestFirstFilteredPaged();
};

void TestStoreTraining::runReadsBackEveryField() {
    QTemporaryDir tmp;
    int64_t runId = 0, modelId = 0, datasetId = 0;
    std::string owner;
    {
        auto store = newStore(tmp);
        QVERIFY(store);
        modelId = addModel(*store);
        datasetId = addDataset(*store);
        TrainingRunRepo& runs = store->trainingRuns();
        owner = runs.owner();
        QVERIFY(!owner.empty());
        auto queued = runs.queue("finetune", R"({"method":"lora","rank":8})", modelId, datasetId);
        QVERIFY2(queued.isOk(), queued.status().toString().c_str());
        runId = *queued;
        auto before = runs.run(runId);
        QVERIFY(before.isOk());
        QCOMPARE(before->status, std::string("queued"));
        QCOMPARE(before->owner, std::string());
        QVERIFY(runs.start(runId).isOk());
        QVERIFY(runs.finish(runId, "completed", R"({"final_loss":1.25})").isOk());
    }
    auto reopened = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(reopened.isOk());
    auto run = (*reopened)->trainingRuns().run(runId);
    QVERIFY2(run.isOk(), run.status().toString().c_str());
    QCOMPARE(run->id, runId);
    QCOMPARE(run->kind, std::string("finetune"));
    QCOMPARE(run->status, std::string("completed"));
    QCOMPARE(run->modelId, std::optional<int64_t>(modelId));
    QCOMPARE(run->datasetId, std::optional<int64_t>(datasetId));
    QCOMPARE(run->configJson, std::string(R"({"method":"lora","rank":8})"));
    QCOMPARE(run->resultJson, std::string(R"({"final_loss":1.25})"));
    QVERIFY2(isTimestamp(run->startedAt), run->startedAt.c_str());
    QVERIFY2(isTimestamp(run->finishedAt), run->finishedAt.c_str());
    QVERIFY(run->finishedAt >= run->startedAt);
    QCOMPARE(run->owner, owner);
    QCOMPARE(run->metricCount, int64_t(0));
    QCOMPARE(run->lastStep, int64_t(-1));
    QVERIFY(!run->lastLoss && !run->bestEvalLoss && !run->lastCheckpointId);
    QCOMPARE((*reopened)->recoveredRuns(), 0);
}

void TestStoreTraining::stateMachine_data() {
    QTest::addColumn<QString>("from");   // "queued", "running" or a final state reached via running
    QTest::addColumn<QString>("action"); // "start" or a status passed to finish()
    QTest::addColumn<bool>("allowed");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("queued -> running") << "queued"
                                       << "start" << true << "";
    QTest::newRow("queued -> cancelled") << "queued"
                                         << "cancelled" << true << "";
    for (const char* to : {"completed", "failed", "interrupted"}) {
        QTest::addRow("queued -> %s refused", to)
            << "queued" << to << false << "only be cancelled before it starts";
    }
    for (const char* to : {"completed", "failed", "cancelled", "interrupted"})
        QTest::addRow("running -> %s", to) << "running" << to << true << "";
    QTest::newRow("running -> start refused")
        << "running"
        << "start" << false << "is 'running'; only a queued run can start";
    QTest::newRow("running -> queued refused")
        << "running"
        << "queued" << false << "'queued' is not a final state";
    QTest::newRow("running -> running refused")
        << "running"
        << "running" << false << "'running' is not a final state";
    QTest::newRow("unknown state refused") << "running"
                                           << "paused" << false << "'paused' is not a final state";
    for (const char* from : {"completed", "failed", "cancelled", "interrupted"}) {
        QTest::addRow("%s -> start refused", from)
            << from << "start" << false << QStringLiteral("is '%1'").arg(from);
        QTest::addRow("%s -> completed refused", from)
            << from << "completed" << false << QStringLiteral("already finished as '%1'").arg(from);
        QTest::addRow("%s -> failed refused", from)
            << from << "failed" << false << QStringLiteral("already finished as '%1'").arg(from);
    }
}

void TestStoreTraining::stateMachine() {
    QFETCH(QString, from);
    QFETCH(QString, action);
    QFETCH(bool, allowed);
    QFETCH(QString, mentions);
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t id = *runs.queue("finetune", "{}");
    if (from != "queued") {
        QVERIFY(runs.start(id).isOk());
        if (from != "running") QVERIFY(runs.finish(id, from.toStdString(), "{}").isOk());
    }
    const RunSummary before = *runs.run(id);
    const moe::Status status =
        action == "start" ? runs.start(id) : runs.finish(id, action.toStdString(), R"({"x":1})");
    const RunSummary after = *runs.run(id);
    if (allowed) {
        QVERIFY2(status.isOk(), status.toString().c_str());
        QCOMPARE(QString::fromStdString(after.status), action == "start" ? "running" : action);
        if (action != "start") {
            QVERIFY(isTimestamp(after.finishedAt));
            QCOMPARE(after.resultJson, std::string(R"({"x":1})"));
        } else {
            QCOMPARE(after.owner, runs.owner());
        }
        return;
    }
    QVERIFY(!status.isOk());
    QCOMPARE(status.code(), moe::StatusCode::InvalidArgument);
    QVERIFY2(QString::fromStdString(status.message()).contains(mentions), status.message().c_str());
    if (!mentions.contains("not a final state")) {
        QVERIFY2(status.message().find("run " + std::to_string(id)) != std::string::npos,
                 status.message().c_str());
    }
    // Nothing changed.
    QCOMPARE(after.status, before.status);
    QCOMPARE(after.finishedAt, before.finishedAt);
    QCOMPARE(after.resultJson, before.resultJson);
    QCOMPARE(after.owner, before.owner);
}

void TestStoreTraining::rejectsInvalidRuns_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("mentions");
    using moe::StatusCode;
    QTest::newRow("empty kind") << "emptyKind" << int(StatusCode::InvalidArgument) << "kind";
    QTest::newRow("bad config") << "badConfig" << int(StatusCode::InvalidArgument) << "config_json";
    QTest::newRow("queue missing model")
        << "queueMissingModel" << int(StatusCode::NotFound) << "no model with id 999";
    QTest::newRow("begin missing dataset")
        << "beginMissingDataset" << int(StatusCode::NotFound) << "no dataset with id 998";
    QTest::newRow("start missing run")
        << "startMissing" << int(StatusCode::NotFound) << "no run with id 997";
    QTest::newRow("finish missing run")
        << "finishMissing" << int(StatusCode::NotFound) << "no run with id 997";
    QTest::newRow("finish bad result")
        << "badResult" << int(StatusCode::InvalidArgument) << "result_json";
    QTest::newRow("metrics of missing run")
        << "metricsMissing" << int(StatusCode::NotFound) << "no run with id 997";
    QTest::newRow("checkpoint of missing run")
        << "checkpointMissing" << int(StatusCode::NotFound) << "no run with id 997";
    QTest::newRow("checkpoint without path")
        << "checkpointNoPath" << int(StatusCode::InvalidArgument) << "checkpoint path";
    QTest::newRow("checkpoint bad metrics")
        << "checkpointBadJson" << int(StatusCode::InvalidArgument) << "metrics_json";
    QTest::newRow("checkpoint step twice")
        << "checkpointTwice" << int(StatusCode::InvalidArgument) << "UNIQUE";
    QTest::newRow("artifact of missing run")
        << "artifactMissing" << int(StatusCode::NotFound) << "no run with id 997";
    QTest::newRow("artifact without kind")
        << "artifactNoKind" << int(StatusCode::InvalidArgument) << "artifact kind";
    QTest::newRow("read missing run")
        << "readMissing" << int(StatusCode::NotFound) << "project.sqlite: no run with id 997";
}

void TestStoreTraining::rejectsInvalidRuns() {
    QFETCH(QString, action);
    QFETCH(int, code);
    QFETCH(QString, mentions);
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t run = *runs.begin("finetune", "{}");
    QVERIFY(runs.addCheckpoint(run, 10, "checkpoints/run-1/step-10").isOk());
    const Counts before = countRows(*store, run);
    const RunSummary runBefore = *runs.run(run);

    moe::Status status;
    ArtifactRecord artifact;
    artifact.kind = "adapter";
    artifact.path = "adapters/a";
    if (action == "emptyKind")
        status = runs.queue("", "{}").status();
    else if (action == "badConfig")
        status = runs.begin("finetune", "{\"lr\":").status();
    else if (action == "queueMissingModel")
        status = runs.queue("finetune", "{}", 999).status();
    else if (action == "beginMissingDataset")
        status = runs.begin("finetune", "{}", std::nullopt, 998).status();
    else if (action == "startMissing")
        status = runs.start(997);
    else if (action == "finishMissing")
        status = runs.finish(997, "completed", "");
    else if (action == "badResult")
        status = runs.finish(run, "completed", "{oops");
    else if (action == "metricsMissing") {
        const MetricRow row = lossRow(1, 2.0);
        status = runs.appendMetrics(997, std::span(&row, 1));
    } else if (action == "checkpointMissing")
        status = runs.addCheckpoint(997, 1, "c").status();
    else if (action == "checkpointNoPath")
        status = runs.addCheckpoint(run, 20, "").status();
    else if (action == "checkpointBadJson")
        status = runs.addCheckpoint(run, 20, "c", "[1,").status();
    else if (action == "checkpointTwice")
        status = runs.addCheckpoint(run, 10, "again").status();
    else if (action == "artifactMissing") {
        artifact.runId = 997;
        status = runs.addArtifact(artifact).status();
    } else if (action == "artifactNoKind") {
        artifact.kind.clear();
        status = runs.addArtifact(artifact).status();
    } else if (action == "readMissing")
        status = runs.run(997).status();
    else
        QFAIL("unknown action");

    QVERIFY(!status.isOk());
    QCOMPARE(int(status.code()), code);
    QVERIFY2(QString::fromStdString(status.message()).contains(mentions), status.message().c_str());
    QVERIFY(countRows(*store, run) == before);
    const RunSummary runAfter = *runs.run(run);
    QCOMPARE(runAfter.status, runBefore.status);
    QCOMPARE(runAfter.lastCheckpointId, runBefore.lastCheckpointId);
    QCOMPARE(runAfter.resultJson, runBefore.resultJson);
    QVERIFY(store->checkIntegrity().isOk());
}

void TestStoreTraining::metricsInStepOrderWithMerge() {
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t run = *runs.begin("finetune", "{}");
    const int64_t other = *runs.begin("finetune", "{}");
    // Out of order, one row with every column, one eval-only step.
    std::vector<MetricRow> batch = {lossRow(30, 1.5), lossRow(10, 2.5), lossRow(20, 2.0)};
    batch[1].learningRate = 1e-4;
    batch[1].gradNorm = 0.75;
    batch[1].epoch = 0.125;
    batch[1].tokens = 40960;
    batch[1].elapsed = 3.5;
    MetricRow eval;
    eval.step = 25;
    eval.evalLoss = 1.9;
    batch.push_back(eval);
    QVERIFY(runs.appendMetrics(run, batch).isOk());
    QVERIFY(runs.appendMetrics(other, std::vector{lossRow(5, 9.0)}).isOk());
    // Step 20 again: eval_loss is added, loss stays; a better eval at 40 with loss.
    MetricRow again;
    again.step = 20;
    again.evalLoss = 2.2;
    MetricRow later = lossRow(40, 1.25);
    later.evalLoss = 1.7;
    QVERIFY(runs.appendMetrics(run, std::vector{again, later}).isOk());

    auto rows = runs.metrics(run);
    QVERIFY(rows.isOk());
    QCOMPARE(rows->size(), size_t(5));
    const int64_t steps[] = {10, 20, 25, 30, 40};
    for (size_t i = 0; i < rows->size(); ++i)
        QCOMPARE((*rows)[i].step, steps[i]);
    const MetricRow& full = (*rows)[0];
    QCOMPARE(full.loss, std::optional<double>(2.5));
    QCOMPARE(full.learningRate, std::optional<double>(1e-4));
    QCOMPARE(full.gradNorm, std::optional<double>(0.75));
    QCOMPARE(full.epoch, std::optional<double>(0.125));
    QCOMPARE(full.tokens, std::optional<int64_t>(40960));
    QCOMPARE(full.elapsed, std::optional<double>(3.5));
    QVERIFY(!full.evalLoss);
    QCOMPARE((*rows)[1].loss, std::optional<double>(2.0));
    QCOMPARE((*rows)[1].evalLoss, std::optional<double>(2.2));
    QVERIFY(!(*rows)[2].loss);
    QCOMPARE((*rows)[2].evalLoss, std::optional<double>(1.9));

    auto from = runs.metrics(run, 25);
    QVERIFY(from.isOk());
    QCOMPARE(from->size(), size_t(3));
    QCOMPARE(from->front().step, int64_t(25));

    auto summary = runs.run(run);
    QCOMPARE(summary->metricCount, int64_t(5)); // the merged step counts once
    QCOMPARE(summary->lastStep, int64_t(40));
    QCOMPARE(summary->lastLoss, std::optional<double>(1.25));
    QCOMPARE(summary->bestEvalLoss, std::optional<double>(1.7));
    QCOMPARE(runs.metrics(other)->size(), size_t(1));
    QCOMPARE(runs.run(other)->lastLoss, std::optional<double>(9.0));
}

void TestStoreTraining::metricsDownsampleForPlots() {
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t run = *runs.begin("finetune", "{}");
    std::vector<MetricRow> rows;
    for (int64_t step = 1; step <= 1001; ++step)
        rows.push_back(lossRow(step, 10.0 / static_cast<double>(step)));
    QVERIFY(runs.appendMetrics(run, rows).isOk());
    // 1001 rows, 100 points: stride ceil(1001 / 100) = 11 -> steps 1, 12, ..., 990 (91 rows),
    // then the last step 1001 appended.
    auto plot = runs.metrics(run, 0, 100);
    QVERIFY(plot.isOk());
    QCOMPARE(plot->size(), size_t(92));
    for (size_t i = 0; i + 1 < plot->size(); ++i)
        QCOMPARE((*plot)[i].step, int64_t(1 + 11 * static_cast<int64_t>(i)));
    QCOMPARE(plot->back().step, int64_t(1001));
    QCOMPARE(plot->back().loss, std::optional<double>(10.0 / 1001.0));
    // More points than rows: everything, in order.
    QCOMPARE(runs.metrics(run, 0, 5000)->size(), size_t(1001));
    // From a step on: 101 rows (901..1001), 10 points -> stride 11: 901, ..., 1000, + 1001.
    auto tail = runs.metrics(run, 901, 10);
    QVERIFY(tail.isOk());
    QCOMPARE(tail->size(), size_t(11));
    QCOMPARE(tail->front().step, int64_t(901));
    QCOMPARE(tail->back().step, int64_t(1001));
}

void TestStoreTraining::metricsRejectedAfterFinish() {
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t run = *runs.begin("finetune", "{}");
    QVERIFY(runs.appendMetrics(run, std::vector{lossRow(1, 3.0)}).isOk());
    QVERIFY(runs.finish(run, "failed", R"({"error":"nan loss"})").isOk());
    const moe::Status late = runs.appendMetrics(run, std::vector{lossRow(2, 2.0)});
    QCOMPARE(late.code(), moe::StatusCode::InvalidArgument);
    QVERIFY2(late.message().find("finished as 'failed'") != std::string::npos,
             late.message().c_str());
    QCOMPARE(runs.metrics(run)->size(), size_t(1));
    QCOMPARE(runs.run(run)->lastStep, int64_t(1));
    QVERIFY(runs.appendMetrics(run, {}).isOk()); // an empty batch is a no-op
}

void TestStoreTraining::checkpointsAndArtifacts() {
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    const int64_t run = *runs.begin("finetune", "{}");
    auto late = runs.addCheckpoint(run, 200, "checkpoints/run-1/step-200", R"({"loss":1.1})");
    auto early = runs.addCheckpoint(run, 100, "checkpoints/run-1/step-100");
    QVERIFY(late.isOk() && early.isOk());
    auto list = runs.checkpoints(run);
    QVERIFY(list.isOk());
    QCOMPARE(list->size(), size_t(2));
    QCOMPARE((*list)[0].id, *early); // by step
    QCOMPARE((*list)[0].step, int64_t(100));
    QCOMPARE((*list)[1].id, *late);
    QCOMPARE((*list)[1].runId, run);
    QCOMPARE((*list)[1].path, std::string("checkpoints/run-1/step-200"));
    QCOMPARE((*list)[1].metricsJson, std::string(R"({"loss":1.1})"));
    QVERIFY(isTimestamp((*list)[1].createdAt));
    // The last one recorded, not the highest step.
    QCOMPARE(runs.run(run)->lastCheckpointId, std::optional<int64_t>(*early));

    ArtifactRecord adapter;
    adapter.runId = run;
    adapter.kind = "adapter";
    adapter.path = "adapters/run-1";
    adapter.contentHash = "fp1:adapter";
    adapter.bytes = 1234567;
    ArtifactRecord loose;
    loose.kind = "plot";
    loose.path = "reports/loss.png";
    auto a = runs.addArtifact(adapter);
    auto b = runs.addArtifact(loose);
    QVERIFY(a.isOk() && b.isOk());
    auto all = runs.artifacts();
    QVERIFY(all.isOk());
    QCOMPARE(all->size(), size_t(2));
    const ArtifactRecord& got = all->front();
    QCOMPARE(got.id, *a);
    QCOMPARE(got.runId, std::optional<int64_t>(run));
    QCOMPARE(got.kind, adapter.kind);
    QCOMPARE(got.path, adapter.path);
    QCOMPARE(got.contentHash, adapter.contentHash);
    QCOMPARE(got.bytes, adapter.bytes);
    QVERIFY(isTimestamp(got.createdAt));
    QVERIFY(!(*all)[1].runId);
    auto ofRun = runs.artifacts(run);
    QCOMPARE(ofRun->size(), size_t(1));
    QCOMPARE(ofRun->front().id, *a);
}

void TestStoreTraining::historyNewestFirstFilteredPaged() {
    QTemporaryDir tmp;
    auto store = newStore(tmp);
    QVERIFY(store);
    TrainingRunRepo& runs = store->trainingRuns();
    std::vector<int64_t> ids;
    const char* kinds[] = {"finetune", "bench", "finetune", "eval", "finetune", "bench"};
    for (const char* kind : kinds)
        ids.push_back(*runs.begin(kind, "{}"));
    QVERIFY(runs.finish(ids[0], "completed", "").isOk());
    QVERIFY(runs.finish(ids[2], "failed", "").isOk());
    const int64_t queued = *runs.queue("finetune", "{}");

    auto all = runs.history();
    QVERIFY(all.isOk());
    QCOMPARE(all->size(), size_t(7));
    QCOMPARE(all->front().id, queued);
    for (size_t i = 1; i < all->size(); ++i) {
        QVERIFY((*all)[i - 1].startedAt >= (*all)[i].startedAt);
        if ((*all)[i - 1].startedAt == (*all)[i].startedAt)
            QVERIFY((*all)[i - 1].id > (*all)[i].id);
    }
    RunHistoryQuery q;
    q.kind = "finetune";
    auto finetunes = runs.history(q);
    QCOMPARE(finetunes->size(), size_t(4));
    QCOMPARE(finetunes->back().id, ids[0]);
    q.status = "running";
    auto running = runs.history(q);
    QCOMPARE(running->size(), size_t(1));
    QCOMPARE(running->front().id, ids[4]);
    RunHistoryQuery page;
    page.limit = 2;
    page.offset = 1;
    auto paged = runs.history(page);
    QCOMPARE(paged->size(), size_t(2));
    QCOMPARE((*paged)[0].id, (*all)[1].id);
    QCOMPARE((*paged)[1].id, (*all)[2].id);
    RunHistoryQuery none;
    none.kind = "quantize";
    QCOMPARE(runs.history(none)->size(), size_t(0));
}

QTEST_GUILESS_MAIN(TestStoreTraining)
#include "test-store-training.moc"
