// Offscreen Qt Test of the studio shell: the registered panels as tabs (and a plugged-in one),
// jobs in the status area while a comparison runs, the theme switch, the project switcher (new,
// recent) — and the reopen path: a project where a model and a quantized version were added, two
// versions compared, a prompt routed and a chat turn recorded is closed and opened again, and
// every panel finds its part of it.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "panels/chat-panel.h"
#include "panels/compare-panel.h"
#include "panels/experts-panel.h"
#include "panels/models-panel.h"
#include "panels/runs-panel.h"
#include "shell/job-tracker.h"
#include "shell/main-window.h"
#include "shell/project-switcher.h"
#include "shell/status-area.h"
#include "shell/theme.h"
#include "widgets/routing-heatmap.h"
#include "widgets/transcript-view.h"

#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using moe::projects::ProjectStore;
using moe::ui::MainWindow;

class TestStudioShell : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void panelsAreTabsAndPlugIn();
    void workInProjectThenReopen();
    void switchProjects();
    void themeFollowsChoice();

private:
    std::unique_ptr<MainWindow> openWindow(const QString& dir);

    QTemporaryDir m_dir;
    QString m_f32;
    QString m_q8;
    QString m_projectDir;
};

void TestStudioShell::initTestCase() {
    QStandardPaths::setTestModeEnabled(true); // QSettings (recent projects, theme) in a test location
    QVERIFY(m_dir.isValid());
    moe::RandomModelOptions options;
    options.arch = "mixtral";
    options.preset = "tiny";
    m_f32 = m_dir.filePath(QStringLiteral("tiny-f32.gguf"));
    QVERIFY(moe::writeRandomModel(options, m_f32.toStdString()).isOk());
    options.type = "q8_0";
    m_q8 = m_dir.filePath(QStringLiteral("tiny-q8_0.gguf"));
    QVERIFY(moe::writeRandomModel(options, m_q8.toStdString()).isOk());
    m_projectDir = m_dir.filePath(QStringLiteral("studio-project"));
}

std::unique_ptr<MainWindow> TestStudioShell::openWindow(const QString& dir) {
    auto store = MainWindow::openOrCreateProject(dir);
    if (!store) qFatal("cannot open %s: %s", qPrintable(dir), store.status().toString().c_str());
    auto window = std::make_unique<MainWindow>(std::move(store).value());
    window->show();
    return window;
}

void TestStudioShell::panelsAreTabsAndPlugIn() {
    auto window = openWindow(m_dir.filePath(QStringLiteral("tabs-project")));
    auto* tabs = window->findChild<QTabWidget*>(QStringLiteral("panelTabs"));
    QVERIFY(tabs);
    QStringList titles;
    for (int i = 0; i < tabs->count(); ++i) titles << tabs->tabText(i);
    QCOMPARE(titles, QStringList({"Models", "Chat", "Compare", "Experts", "Runs"}));
    QCOMPARE(window->currentPanelId(), QStringLiteral("models")); // an empty project starts there
    window->showPanel(QStringLiteral("runs"));
    QCOMPARE(window->currentPanelId(), QStringLiteral("runs"));
    window.reset();

    // A later panel plugs in through the registry, with its tab and its View action.
    moe::ui::PanelRegistry registry;
    moe::ui::registerBuiltinPanels(registry);
    registry.add({QStringLiteral("bench"), QStringLiteral("Bench"), 50,
                  [](moe::ui::PanelContext&, QWidget* parent) -> QWidget* {
                      auto* label = new QLabel(QStringLiteral("bench panel"), parent);
                      label->setObjectName(QStringLiteral("benchPanel"));
                      return label;
                  },
                  {}, false});
    auto store = MainWindow::openOrCreateProject(m_dir.filePath(QStringLiteral("tabs-project")));
    QVERIFY(store);
    MainWindow plugged(std::move(store).value(), registry);
    auto* pluggedTabs = plugged.findChild<QTabWidget*>(QStringLiteral("panelTabs"));
    QCOMPARE(pluggedTabs->count(), 6);
    QCOMPARE(pluggedTabs->tabText(4), QStringLiteral("Bench"));
    QVERIFY(plugged.panel(QStringLiteral("bench")));
    bool inViewMenu = false;
    for (QAction* menu : plugged.menuBar()->actions())
        if (menu->menu())
            for (QAction* a : menu->menu()->actions()) inViewMenu |= a->text() == QStringLiteral("Bench");
    QVERIFY(inViewMenu);
}

void TestStudioShell::workInProjectThenReopen() {
    qint64 comparisonId = 0;
    qint64 routingRun = 0;
    QString routedPrompt = QStringLiteral("Which experts handle this?");
    {
        auto window = openWindow(m_projectDir);
        moe::ui::ModelsPanel* models = window->modelsPanel();
        QSignalSpy added(models, &moe::ui::ModelsPanel::modelAdded);
        models->addModelFile(m_f32);
        QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 30000);
        QSignalSpy versionAdded(models, &moe::ui::ModelsPanel::versionAdded);
        models->addVersionFile(models->currentVersionId(), m_q8, QStringLiteral("quantization"));
        QTRY_COMPARE_WITH_TIMEOUT(versionAdded.count(), 1, 30000);
        const qint64 quant = models->currentVersionId();
        const qint64 base = window->store().modelVersions().lineage(quant)->front().id;

        // Compare the two versions; the comparison is a job in the status area while it runs.
        moe::ui::ComparePanel* compare = window->comparePanel();
        compare->setCheckedVersions({base, quant}); // the lists were refreshed on versionAdded
        QCOMPARE(compare->checkedVersions().size(), 2);
        compare->setPrompts(QStringLiteral("Hello"), false);
        QSignalSpy compared(compare, &moe::ui::ComparePanel::comparisonFinished);
        compare->run();
        QVERIFY(window->jobs().count() >= 1);
        QVERIFY2(window->statusArea()->jobsText().contains(QStringLiteral("running")),
                 qPrintable(window->statusArea()->jobsText()));
        QTRY_COMPARE_WITH_TIMEOUT(compared.count(), 1, 60000);
        comparisonId = compare->comparisonId();
        QTRY_COMPARE_WITH_TIMEOUT(window->jobs().count(), 0, 30000);

        // Route a prompt.
        moe::ui::ExpertsPanel* experts = window->expertsPanel();
        experts->setVersion(base);
        experts->setPrompt(routedPrompt);
        experts->setGenerateTokens(0);
        QSignalSpy routed(experts, &moe::ui::ExpertsPanel::analysisFinished);
        experts->run();
        QTRY_COMPARE_WITH_TIMEOUT(routed.count(), 1, 30000);
        routingRun = experts->runId();

        // A chat turn.
        moe::ui::ChatPanel* chat = window->chatPanel();
        QTRY_VERIFY_WITH_TIMEOUT(chat->state() == moe::ui::ChatPanel::State::Ready, 30000);
        QSignalSpy recorded(chat, &moe::ui::ChatPanel::turnRecorded);
        chat->sendPrompt(QStringLiteral("A question for the chat"));
        QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 1, 60000);

        // The Runs panel saw all three as they happened.
        moe::ui::RunsPanel* runs = window->runsPanel();
        QCOMPARE(runs->totalCount(), 3);
    }
    QVERIFY(moe::ui::ProjectSwitcher::recentProjects().contains(QDir(m_projectDir).absolutePath()));

    // Reopen: everything is where it was.
    auto window = openWindow(m_projectDir);
    QCOMPARE(window->currentPanelId(), QStringLiteral("chat"));
    auto* library = window->modelsPanel()->findChild<QTreeWidget*>(QStringLiteral("modelList"));
    QCOMPARE(library->topLevelItemCount(), 1);
    QCOMPARE(library->topLevelItem(0)->childCount(), 1);

    moe::ui::ComparePanel* compare = window->comparePanel();
    QCOMPARE(compare->findChild<QListWidget*>(QStringLiteral("comparisonList"))->count(), 1);
    compare->openComparison(comparisonId);
    QCOMPARE(compare->comparisonId(), comparisonId);
    for (qint64 v : compare->checkedVersions()) QVERIFY(!compare->outputText(v).isEmpty());

    moe::ui::ExpertsPanel* experts = window->expertsPanel();
    QVERIFY(experts->openRun(routingRun));
    QVERIFY(experts->heatmap()->layerCount() > 0);

    moe::ui::RunsPanel* runs = window->runsPanel();
    QCOMPARE(runs->totalCount(), 3);
    runs->setKindFilter(QStringLiteral("compare"));
    QCOMPARE(runs->visibleCount(), 1);
    runs->setKindFilter(QStringLiteral("routing"));
    QCOMPARE(runs->visibleCount(), 1);
    QVERIFY(runs->openRun(routingRun));

    auto* transcript = window->findChild<moe::ui::TranscriptView*>(QStringLiteral("transcript"));
    QVERIFY(transcript->toPlainText().contains(QStringLiteral("A question for the chat")));
}

void TestStudioShell::switchProjects() {
    auto window = openWindow(m_projectDir);
    const QString other = m_dir.filePath(QStringLiteral("other-project"));
    QSignalSpy changed(window.get(), &MainWindow::projectChanged);
    QVERIFY(window->switchProject(other, true));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(QString::fromStdString(window->store().dir()), QDir(other).absolutePath());
    auto* library = window->modelsPanel()->findChild<QTreeWidget*>(QStringLiteral("modelList"));
    QCOMPARE(library->topLevelItemCount(), 0);
    QCOMPARE(window->runsPanel()->totalCount(), 0);
    const QStringList recent = moe::ui::ProjectSwitcher::recentProjects();
    QCOMPARE(recent.value(0), QDir(other).absolutePath());
    QVERIFY(recent.contains(QDir(m_projectDir).absolutePath()));

    // Back through the recent list.
    QVERIFY(window->switchProject(recent.value(1)));
    library = window->modelsPanel()->findChild<QTreeWidget*>(QStringLiteral("modelList"));
    QCOMPARE(library->topLevelItemCount(), 1);
    // A folder that cannot hold a project is refused, and the open project stays.
    QVERIFY(!window->switchProject(m_f32, true));
    QCOMPARE(QString::fromStdString(window->store().dir()), QDir(m_projectDir).absolutePath());
}

void TestStudioShell::themeFollowsChoice() {
    auto window = openWindow(m_dir.filePath(QStringLiteral("theme-project")));
    window->setThemeMode(moe::ui::ThemeMode::Dark);
    QVERIFY(moe::ui::isDarkTheme());
    QTRY_VERIFY(window->palette().color(QPalette::Window).lightness() < 100);
    QCOMPARE(moe::ui::savedThemeMode(), moe::ui::ThemeMode::Dark);
    window->setThemeMode(moe::ui::ThemeMode::Light);
    QVERIFY(!moe::ui::isDarkTheme());
    QTRY_VERIFY(window->palette().color(QPalette::Window).lightness() > 200);
    window->setThemeMode(moe::ui::ThemeMode::System);
    QCOMPARE(moe::ui::savedThemeMode(), moe::ui::ThemeMode::System);
}

QTEST_MAIN(TestStudioShell)
#include "test-studio-shell.moc"
