// Offscreen Qt Test of the Compare panel's main path: a two-prompt set sent to two versions of a
// tiny random model (the F32 base and its Q8_0 quantization) streaming side by side; the
// comparison, its four outputs with stats and a picked winner are found in the project database;
// a panel reopened over the project lists the comparison, shows its outputs and re-runs it (greedy
// decoding: the re-run's outputs equal the first run's). Also the word diff on a table of cases.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "panels/compare-column.h"
#include "panels/compare-panel.h"
#include "shell/job-tracker.h"
#include "widgets/word-diff.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using moe::projects::ProjectStore;
using moe::ui::ComparePanel;

class TestComparePanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void wordDiff_data();
    void wordDiff();
    void compareTwoVersionsRecordsComparison();
    void pickWinnerIsRecorded();
    void reopenShowsAndReruns();

private:
    QJsonObject statsOf(qint64 comparisonId, int prompt, qint64 version);

    QTemporaryDir m_dir;
    std::unique_ptr<ProjectStore> m_store;
    moe::ui::JobTracker m_jobs;
    qint64 m_base = 0;
    qint64 m_quant = 0;
    qint64 m_comparison = 0;
};

void TestComparePanel::initTestCase() {
    QVERIFY(m_dir.isValid());
    moe::RandomModelOptions options;
    options.arch = "mixtral";
    options.preset = "tiny";
    const QString f32 = m_dir.filePath(QStringLiteral("tiny-f32.gguf"));
    QVERIFY(moe::writeRandomModel(options, f32.toStdString()).isOk());
    options.type = "q8_0";
    const QString q8 = m_dir.filePath(QStringLiteral("tiny-q8_0.gguf"));
    QVERIFY(moe::writeRandomModel(options, q8.toStdString()).isOk());

    auto store = ProjectStore::create(m_dir.filePath(QStringLiteral("project")).toStdString(), "compare test");
    QVERIFY2(store, store.status().toString().c_str());
    m_store = std::move(store).value();
    moe::projects::ModelRecord model;
    model.path = f32.toStdString();
    model.name = "tiny mixtral";
    model.contentHash = *moe::projects::fileFingerprint(model.path);
    model.format = "gguf";
    auto modelId = m_store->addModel(model);
    QVERIFY(modelId);
    m_base = m_store->modelVersions().baseVersion(*modelId)->id;
    moe::projects::ModelVersionRecord version;
    version.kind = "quantization";
    version.name = "tiny-q8_0";
    version.path = q8.toStdString();
    version.contentHash = *moe::projects::fileFingerprint(version.path);
    auto quant = m_store->modelVersions().addDerived(m_base, version);
    QVERIFY(quant);
    m_quant = *quant;
}

void TestComparePanel::wordDiff_data() {
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("changedA");
    QTest::addColumn<int>("changedB");
    QTest::newRow("equal") << "the cat sat" << "the cat sat" << 0 << 0;
    QTest::newRow("one word") << "the cat sat" << "the dog sat" << 1 << 1;
    QTest::newRow("added") << "experts route" << "experts route tokens" << 0 << 1;
    QTest::newRow("punctuation") << "Hello, world" << "Hello world!" << 1 << 1;
    QTest::newRow("empty a") << "" << "new text" << 0 << 2;
    QTest::newRow("unicode") << "caf\u00e9 au lait" << "caf\u00e9 noir" << 2 << 1;
}

void TestComparePanel::wordDiff() {
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, changedA);
    QFETCH(int, changedB);
    const moe::ui::WordDiff diff = moe::ui::wordDiff(a, b);
    QCOMPARE(diff.changedA, changedA);
    QCOMPARE(diff.changedB, changedB);
    // Each side reassembles to its text.
    QString ra, rb;
    for (const auto& p : diff.a) ra += p.text;
    for (const auto& p : diff.b) rb += p.text;
    QCOMPARE(ra, a);
    QCOMPARE(rb, b);
    const QString html = moe::ui::diffHtml(diff.b, false);
    QCOMPARE(html.contains(QStringLiteral("background")), changedB > 0);
}

QJsonObject TestComparePanel::statsOf(qint64 comparisonId, int prompt, qint64 version) {
    auto outputs = m_store->comparisons().outputs(comparisonId);
    if (!outputs) return {};
    for (const auto& o : *outputs)
        if (o.promptIndex == prompt && o.versionId == version)
            return QJsonDocument::fromJson(QByteArray::fromStdString(o.statsJson)).object();
    return {};
}

void TestComparePanel::compareTwoVersionsRecordsComparison() {
    ComparePanel panel(*m_store, &m_jobs);
    panel.resize(1200, 700);
    panel.show();
    panel.setCheckedVersions({m_base, m_quant});
    QCOMPARE(panel.checkedVersions().size(), 2);
    panel.setPrompts(QStringLiteral("Hello experts\nWhat does a router do?"), true);
    auto* runButton = panel.findChild<QPushButton*>(QStringLiteral("runCompareButton"));
    QVERIFY(runButton && runButton->isEnabled());
    QSignalSpy finished(&panel, &ComparePanel::comparisonFinished);
    QTest::mouseClick(runButton, Qt::LeftButton);
    QVERIFY(panel.isRunning());
    QCOMPARE(m_jobs.count(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(!panel.isRunning());
    QCOMPARE(m_jobs.count(), 0);
    m_comparison = panel.comparisonId();

    // The comparison, its prompt set and one output per (prompt, version) with stats.
    auto list = m_store->comparisons().list();
    QVERIFY(list && list->size() == 1);
    QCOMPARE(list->front().id, m_comparison);
    QCOMPARE(list->front().prompts.size(), size_t(2));
    QCOMPARE(list->front().prompts[1], std::string("What does a router do?"));
    auto outputs = m_store->comparisons().outputs(m_comparison);
    QVERIFY(outputs);
    QCOMPARE(outputs->size(), size_t(4));
    for (const auto& o : *outputs) {
        const QJsonObject stats = QJsonDocument::fromJson(QByteArray::fromStdString(o.statsJson)).object();
        QVERIFY(stats.value(QStringLiteral("tokens")).toInt() > 0);
        QVERIFY(stats.value(QStringLiteral("ttft_ms")).toDouble() > 0);
        QVERIFY(stats.contains(QStringLiteral("tok_s")));
    }
    // The runs row of kind "compare" names the comparison.
    auto runs = m_store->trainingRuns().history({.kind = std::string("compare"), .status = {}, .limit = 10, .offset = 0});
    QVERIFY(runs && runs->size() == 1);
    QCOMPARE(QString::fromStdString(runs->front().status), QStringLiteral("completed"));
    const QJsonObject result = QJsonDocument::fromJson(QByteArray::fromStdString(runs->front().resultJson)).object();
    QCOMPARE(result.value(QStringLiteral("comparison_id")).toInteger(), m_comparison);

    // Each column shows its reply and its tok/s, TTFT and token count.
    for (qint64 v : {m_base, m_quant}) {
        moe::ui::CompareColumn* column = panel.column(v);
        QVERIFY(column);
        QVERIFY(!column->text().isEmpty());
        QCOMPARE(column->text(), panel.outputText(v));
        QVERIFY2(column->stats().contains(QStringLiteral("tok/s")), qPrintable(column->stats()));
        QVERIFY(column->stats().contains(QStringLiteral("TTFT")));
        QVERIFY(column->stats().contains(QStringLiteral("tokens")));
    }
    // The word diff of the two columns.
    panel.setDiffEnabled(true);
    auto* summary = panel.findChild<QLabel*>(QStringLiteral("diffSummary"));
    QVERIFY(summary && summary->text().contains(QStringLiteral("only in A")));
    // The second prompt's outputs.
    panel.showPrompt(1);
    QCOMPARE(panel.promptIndex(), 1);
    QVERIFY(!panel.outputText(m_base).isEmpty());
}

void TestComparePanel::pickWinnerIsRecorded() {
    ComparePanel panel(*m_store, &m_jobs);
    panel.openComparison(m_comparison);
    panel.showPrompt(0);
    auto* button = panel.column(m_quant)->findChild<QPushButton*>(QStringLiteral("winnerButton"));
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(panel.column(m_quant)->isWinner());
    QVERIFY(!panel.column(m_base)->isWinner());
    QVERIFY(statsOf(m_comparison, 0, m_quant).value(QStringLiteral("winner")).toBool());
    QVERIFY(!statsOf(m_comparison, 0, m_base).value(QStringLiteral("winner")).toBool());
    // The winner moves to the other column; prompt 1 has none.
    panel.pickWinner(m_base);
    QVERIFY(statsOf(m_comparison, 0, m_base).value(QStringLiteral("winner")).toBool());
    QVERIFY(!statsOf(m_comparison, 0, m_quant).value(QStringLiteral("winner")).toBool());
    QVERIFY(!statsOf(m_comparison, 1, m_base).contains(QStringLiteral("winner")));
}

void TestComparePanel::reopenShowsAndReruns() {
    const std::string dir = m_store->dir();
    m_store.reset();
    auto store = ProjectStore::open(dir);
    QVERIFY(store);
    m_store = std::move(store).value();

    ComparePanel panel(*m_store, &m_jobs);
    auto* list = panel.findChild<QListWidget*>(QStringLiteral("comparisonList"));
    QVERIFY(list);
    QCOMPARE(list->count(), 1);
    panel.openComparison(m_comparison);
    QCOMPARE(panel.comparisonId(), m_comparison);
    panel.showPrompt(0);
    auto outputs = m_store->comparisons().outputs(m_comparison);
    QString firstBase;
    for (const auto& o : *outputs)
        if (o.promptIndex == 0 && o.versionId == m_base) firstBase = QString::fromStdString(o.output);
    QCOMPARE(panel.outputText(m_base), firstBase);
    QVERIFY(panel.column(m_base)->isWinner());

    QSignalSpy finished(&panel, &ComparePanel::comparisonFinished);
    panel.rerun();
    QVERIFY(panel.isRunning());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const qint64 rerun = panel.comparisonId();
    QVERIFY(rerun != m_comparison);
    auto record = m_store->comparisons().comparison(rerun);
    QVERIFY(record);
    QVERIFY(QString::fromStdString(record->name).endsWith(QStringLiteral("(re-run)")));
    auto again = m_store->comparisons().outputs(rerun);
    QVERIFY(again && again->size() == 4);
    // Greedy decoding: the same prompt on the same version gives the same reply.
    for (size_t i = 0; i < again->size(); ++i) {
        QCOMPARE((*again)[i].versionId, (*outputs)[i].versionId);
        QCOMPARE((*again)[i].output, (*outputs)[i].output);
    }
    QCOMPARE(list->count(), 2);
}

QTEST_MAIN(TestComparePanel)
#include "test-compare-panel.moc"
