// Offscreen Qt Test of the Experts panel's main path: a prompt (plus a few generated tokens)
// routed through a tiny random Mixtral; the heatmap holds every layer x expert with each MoE row's
// shares summing to 100 %, the counts add up to tokens x experts-per-token (the engine's routing
// statistics are the reference), clicking a token rings its k experts in every layer, the
// utilization histogram has a bar per expert, and the analysis is a "routing" run that a new
// panel shows again from the database.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "moe/model.h"
#include "panels/experts-panel.h"
#include "shell/job-tracker.h"
#include "widgets/routing-heatmap.h"
#include "widgets/token-strip.h"
#include "widgets/utilization-plot.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <cmath>

using moe::projects::ProjectStore;
using moe::ui::ExpertsPanel;

class TestExpertsPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void heatmapForPrompt();
    void recordedRunReopens();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ProjectStore> m_store;
    moe::ui::JobTracker m_jobs;
    moe::ModelSpec m_spec;
    qint64 m_version = 0;
    qint64 m_runId = 0;
    QVector<qint64> m_counts;
};

void TestExpertsPanel::initTestCase() {
    QVERIFY(m_dir.isValid());
    moe::RandomModelOptions options;
    options.arch = "mixtral";
    options.preset = "tiny";
    const QString path = m_dir.filePath(QStringLiteral("tiny.gguf"));
    QVERIFY(moe::writeRandomModel(options, path.toStdString()).isOk());
    auto spec = moe::randomModelSpec(options);
    QVERIFY(spec);
    m_spec = *spec;
    auto store = ProjectStore::create(m_dir.filePath(QStringLiteral("project")).toStdString(), "experts test");
    QVERIFY(store);
    m_store = std::move(store).value();
    moe::projects::ModelRecord model;
    model.path = path.toStdString();
    model.name = "tiny mixtral";
    model.contentHash = *moe::projects::fileFingerprint(model.path);
    auto id = m_store->addModel(model);
    QVERIFY(id);
    m_version = m_store->modelVersions().baseVersion(*id)->id;
}

void TestExpertsPanel::heatmapForPrompt() {
    ExpertsPanel panel(*m_store, &m_jobs);
    panel.resize(1200, 800);
    panel.show();
    panel.setVersion(m_version);
    panel.setPrompt(QStringLiteral("Route these words through the experts, please."));
    panel.setGenerateTokens(4);
    QSignalSpy finished(&panel, &ExpertsPanel::analysisFinished);
    QSignalSpy failed(&panel, &ExpertsPanel::analysisFailed);
    panel.run();
    QVERIFY(panel.isRunning());
    QCOMPARE(m_jobs.count(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() + failed.count() > 0, 30000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
    QCOMPARE(m_jobs.count(), 0);
    m_runId = panel.runId();
    QVERIFY(m_runId != 0);

    const moe::ui::RoutingResult& r = panel.result();
    QCOMPARE(r.nLayer, m_spec.nLayer);
    QCOMPARE(r.nExpert, m_spec.nExpert);
    QCOMPARE(r.k, m_spec.nExpertUsed);
    QVERIFY(r.tokensSeen > r.promptTokens); // the generated tokens fed back count too
    QCOMPARE(qsizetype(r.tokensSeen), r.tokenTexts.size());

    // The heatmap: layer x expert token shares; every MoE row sums to 100 %.
    moe::ui::RoutingHeatmap* heatmap = panel.heatmap();
    QCOMPARE(heatmap->layerCount(), m_spec.nLayer);
    QCOMPARE(heatmap->expertCount(), m_spec.nExpert);
    int moeLayers = 0;
    for (int il = 0; il < r.nLayer; ++il) {
        if (!r.moeLayer[il]) continue;
        ++moeLayers;
        double shares = 0;
        qint64 count = 0;
        for (int e = 0; e < r.nExpert; ++e) {
            shares += heatmap->value(il, e);
            count += r.tokens[il * r.nExpert + e];
        }
        QVERIFY2(std::abs(shares - 100.0) < 1e-6, qPrintable(QString::number(shares)));
        QCOMPARE(count, r.tokensSeen * r.k);
    }
    QVERIFY(moeLayers > 0);
    panel.setMetric(ExpertsPanel::Metric::Tokens);
    QCOMPARE(heatmap->value(0, 1), double(r.tokens[1]));
    m_counts = r.tokens;

    // The utilization histogram: one bar per expert of the shown layer.
    QCOMPARE(panel.utilization()->barCount(), m_spec.nExpert);
    panel.showLayer(r.nLayer - 1);
    QCOMPARE(panel.shownLayer(), r.nLayer - 1);

    // Clicking a token rings its k experts in every MoE layer and lists them.
    moe::ui::TokenStrip* tokens = panel.tokenStrip();
    QCOMPARE(tokens->tokenCount(), int(r.tokensSeen));
    emit tokens->anchorClicked(QUrl(QStringLiteral("#t2")));
    QCOMPARE(tokens->selectedToken(), 2);
    QCOMPARE(heatmap->markerCount(), moeLayers * r.k);
    QCOMPARE(panel.tokenTable()->rowCount(), moeLayers);
    const QString first = panel.tokenTable()->item(0, 1)->text();
    QVERIFY2(first.contains(QString::number(r.tokenExperts[2][0])), qPrintable(first));
}

void TestExpertsPanel::recordedRunReopens() {
    auto run = m_store->trainingRuns().run(m_runId);
    QVERIFY(run);
    QCOMPARE(QString::fromStdString(run->kind), QStringLiteral("routing"));
    QCOMPARE(QString::fromStdString(run->status), QStringLiteral("completed"));
    const QJsonObject result = QJsonDocument::fromJson(QByteArray::fromStdString(run->resultJson)).object();
    QCOMPARE(result.value(QStringLiteral("layers")).toArray().size(), m_spec.nLayer);

    ExpertsPanel panel(*m_store, &m_jobs);
    QVERIFY(panel.openRun(m_runId));
    QCOMPARE(panel.result().tokens, m_counts);
    QCOMPARE(panel.heatmap()->layerCount(), m_spec.nLayer);
    double total = 0;
    for (int e = 0; e < m_spec.nExpert; ++e) total += panel.heatmap()->value(0, e);
    QVERIFY(std::abs(total - 100.0) < 1e-6);
}

QTEST_MAIN(TestExpertsPanel)
#include "test-experts-panel.moc"
