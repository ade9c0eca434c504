// Offscreen Qt Test of the Runs panel's main path: a project holding a fine-tune with per-step
// metrics, a benchmark with samples and summaries, a failed generate run and a chat; the panel
// lists all four (the chat as kind "chat"), filters them by kind, status and text, and opening
// one shows its config JSON, its metric curves and its outputs.
#include "moe-projects/project-store.h"
#include "panels/run-details.h"
#include "panels/runs-panel.h"
#include "widgets/metrics-plot.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using moe::projects::ProjectStore;
using moe::ui::RunsPanel;

class TestRunsPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void listsAndFilters();
    void opensTrainingRun();
    void opensBenchRun();
    void opensChat();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ProjectStore> m_store;
    qint64 m_finetune = 0;
    qint64 m_bench = 0;
    qint64 m_generate = 0;
    qint64 m_chat = 0;
};

void TestRunsPanel::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto store = ProjectStore::create(m_dir.filePath(QStringLiteral("project")).toStdString(), "runs test");
    QVERIFY(store);
    m_store = std::move(store).value();
    moe::projects::ModelRecord model;
    model.path = m_dir.filePath(QStringLiteral("model.gguf")).toStdString();
    model.name = "tiny mixtral";
    model.contentHash = "fp1:test";
    model.format = "gguf";
    auto modelId = m_store->addModel(model);
    QVERIFY(modelId);

    auto& runs = m_store->trainingRuns();
    auto finetune = runs.begin("finetune", R"({"method":"lora","rank":8,"learning_rate":0.0002})", *modelId);
    QVERIFY(finetune);
    m_finetune = *finetune;
    std::vector<moe::projects::MetricRow> rows;
    for (int step = 1; step <= 10; ++step) {
        moe::projects::MetricRow row;
        row.step = step;
        row.loss = 3.0 - 0.2 * step;
        row.learningRate = 2e-4 * (1.0 - step / 20.0);
        if (step % 5 == 0) row.evalLoss = 3.1 - 0.2 * step;
        rows.push_back(row);
    }
    QVERIFY(runs.appendMetrics(m_finetune, rows).isOk());
    QVERIFY(runs.finish(m_finetune, "completed", R"({"adapter":"adapters/run-1"})").isOk());

    moe::projects::BenchEnvironment env;
    env.suite = "decode";
    env.backend = "cpu";
    auto bench = m_store->bench().begin(env, R"({"suite":"decode","prompt_tokens":128})", *modelId);
    QVERIFY(bench);
    m_bench = *bench;
    const std::vector<double> samples = {101.5, 99.0, 100.2, 102.3, 98.7};
    QVERIFY(m_store->bench().addSamples(m_bench, "decode_tok_s", samples).isOk());
    QVERIFY(m_store->bench().summarize(m_bench, {{"decode_tok_s", "tok/s"}}));
    QVERIFY(runs.finish(m_bench, "completed", R"({"decode_tok_s":100.2})").isOk());

    auto generate = m_store->beginRun("generate", R"({"prompt":"hello"})", *modelId);
    QVERIFY(generate);
    m_generate = *generate;
    QVERIFY(m_store->finishRun(m_generate, "failed", R"({"error":"out of memory"})").isOk());

    auto chat = m_store->createChatSession(*modelId, "A chat about routers", "Be brief.");
    QVERIFY(chat);
    m_chat = *chat;
    moe::projects::MessageRecord user;
    user.sessionId = m_chat;
    user.role = "user";
    user.content = "What does a router do?";
    QVERIFY(m_store->addMessage(user));
    moe::projects::MessageRecord reply;
    reply.sessionId = m_chat;
    reply.role = "assistant";
    reply.content = "It picks experts for each token.";
    reply.generatedTokens = 8;
    reply.tokensPerSecond = 42.0;
    reply.ttftMs = 12.0;
    reply.stopReason = "eos";
    QVERIFY(m_store->addMessage(reply));
}

void TestRunsPanel::listsAndFilters() {
    RunsPanel panel(*m_store);
    QCOMPARE(panel.totalCount(), 4);
    QCOMPARE(panel.visibleCount(), 4);
    panel.setKindFilter(QStringLiteral("finetune"));
    QCOMPARE(panel.visibleCount(), 1);
    panel.setKindFilter(QStringLiteral("chat"));
    QCOMPARE(panel.visibleCount(), 1);
    panel.setKindFilter(QString());
    panel.setStatusFilter(QStringLiteral("failed"));
    QCOMPARE(panel.visibleCount(), 1);
    panel.setStatusFilter(QString());
    panel.setTextFilter(QStringLiteral("prompt_tokens"));
    QCOMPARE(panel.visibleCount(), 1);
    panel.setTextFilter(QStringLiteral("ROUTERS"));
    QCOMPARE(panel.visibleCount(), 1);
    panel.setTextFilter(QStringLiteral("tiny mixtral"));
    QCOMPARE(panel.visibleCount(), 4);
    panel.setTextFilter(QStringLiteral("no such run"));
    QCOMPARE(panel.visibleCount(), 0);
}

void TestRunsPanel::opensTrainingRun() {
    RunsPanel panel(*m_store);
    QSignalSpy opened(&panel, &RunsPanel::runOpened);
    QVERIFY(panel.openRun(m_finetune));
    QCOMPARE(opened.count(), 1);
    QCOMPARE(panel.openedId(), m_finetune);
    moe::ui::RunDetails* details = panel.details();
    QVERIFY(details->configText().contains(QStringLiteral("\"rank\": 8")));
    // loss (10 steps), eval loss (2), learning rate (10).
    QCOMPARE(details->metricsPlot()->seriesCount(), 3);
    QCOMPARE(details->metricsPlot()->pointCount(), 22);
    QVERIFY(details->outputsText().contains(QStringLiteral("adapters/run-1")));
}

void TestRunsPanel::opensBenchRun() {
    RunsPanel panel(*m_store);
    QVERIFY(panel.openRun(m_bench));
    moe::ui::RunDetails* details = panel.details();
    QCOMPARE(details->metricsPlot()->seriesCount(), 1);
    QCOMPARE(details->metricsPlot()->pointCount(), 5);
    const QString outputs = details->outputsText();
    QVERIFY2(outputs.contains(QStringLiteral("decode_tok_s")), qPrintable(outputs));
    QVERIFY(outputs.contains(QStringLiteral("tok/s")));
    QVERIFY(details->configText().contains(QStringLiteral("prompt_tokens")));
}

void TestRunsPanel::opensChat() {
    RunsPanel panel(*m_store);
    QVERIFY(panel.openChat(m_chat));
    QCOMPARE(panel.openedSource(), QStringLiteral("chat"));
    moe::ui::RunDetails* details = panel.details();
    QVERIFY(details->outputsText().contains(QStringLiteral("It picks experts")));
    QVERIFY(details->configText().contains(QStringLiteral("Be brief.")));
    QCOMPARE(details->metricsPlot()->pointCount(), 2); // tok/s and TTFT of the one reply
}

QTEST_MAIN(TestRunsPanel)
#include "test-runs-panel.moc"
