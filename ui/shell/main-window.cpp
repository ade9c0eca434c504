// MainWindow: panels from the registry in tabs, the project they work on, the engine worker
// thread of the chat, and the status area. Menus are in main-window-menus.cpp.
#include "shell/main-window.h"

#include "moe-projects/project-store.h"
#include "panels/chat-panel.h"
#include "panels/compare-panel.h"
#include "panels/experts-panel.h"
#include "panels/models-panel.h"
#include "panels/runs-panel.h"
#include "shell/job-tracker.h"
#include "shell/project-switcher.h"
#include "shell/status-area.h"
#include "workers/generation-worker.h"

#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QIcon>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>

#include <algorithm>

// Q_INIT_RESOURCE must run at global scope; moe_ui is static, so its resources need it.
static void initUiResources() { Q_INIT_RESOURCE(resources); }

namespace moe::ui {

Q_LOGGING_CATEGORY(lcShell, "moe.ui.shell")

namespace {

PanelRegistry builtinRegistry() {
    PanelRegistry registry;
    registerBuiltinPanels(registry);
    return registry;
}

} // namespace

MainWindow::MainWindow(std::unique_ptr<moe::projects::ProjectStore> store, QWidget* parent)
    : MainWindow(std::move(store), builtinRegistry(), parent) {}

MainWindow::MainWindow(std::unique_ptr<moe::projects::ProjectStore> store, PanelRegistry registry,
                       QWidget* parent)
    : QMainWindow(parent), m_registry(std::move(registry)), m_store(std::move(store)) {
    initUiResources();
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/moestudio.svg")));
    resize(1360, 860);
    m_themeMode = savedThemeMode();
    applyTheme(m_themeMode);

    m_jobs = new JobTracker(this);
    m_worker = new GenerationWorker;
    m_worker->moveToThread(&m_engineThread);
    connect(&m_engineThread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_engineThread.setObjectName(QStringLiteral("engine"));
    m_engineThread.start();

    m_status = new StatusArea(statusBar(), *m_jobs);
    connect(m_worker, &GenerationWorker::devicesDescribed, m_status, &StatusArea::setDevice);
    QMetaObject::invokeMethod(m_worker, &GenerationWorker::describeDevices, Qt::QueuedConnection);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("panelTabs"));
    m_tabs->setDocumentMode(true);
    setCentralWidget(m_tabs);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::onTabChanged);

    m_switcher = new ProjectSwitcher(this);
    connect(m_switcher, &ProjectSwitcher::projectChosen, this,
            [this](const QString& dir, bool create) { switchProject(dir, create); });
    buildMenus();
    buildPanels();
}

MainWindow::~MainWindow() {
    // Panels go first (they hold references to the store); the worker finishes its current call.
    m_worker->requestStop();
    destroyPanels();
    m_engineThread.quit();
    m_engineThread.wait();
}

moe::Result<std::unique_ptr<moe::projects::ProjectStore>>
MainWindow::openOrCreateProject(const QString& dir) {
    const std::string path = QDir(dir).absolutePath().toStdString();
    if (moe::projects::ProjectStore::exists(path)) return moe::projects::ProjectStore::open(path);
    const QString name = QFileInfo(QDir(dir).absolutePath()).fileName();
    return moe::projects::ProjectStore::create(path, name.toStdString());
}

QWidget* MainWindow::panel(const QString& id) const { return m_panels.value(id); }

ModelsPanel* MainWindow::modelsPanel() const { return qobject_cast<ModelsPanel*>(panel(QStringLiteral("models"))); }
ChatPanel* MainWindow::chatPanel() const { return qobject_cast<ChatPanel*>(panel(QStringLiteral("chat"))); }
ComparePanel* MainWindow::comparePanel() const { return qobject_cast<ComparePanel*>(panel(QStringLiteral("compare"))); }
ExpertsPanel* MainWindow::expertsPanel() const { return qobject_cast<ExpertsPanel*>(panel(QStringLiteral("experts"))); }
RunsPanel* MainWindow::runsPanel() const { return qobject_cast<RunsPanel*>(panel(QStringLiteral("runs"))); }

QString MainWindow::currentPanelId() const { return m_panels.key(m_tabs->currentWidget()); }

void MainWindow::showPanel(const QString& id) {
    if (QWidget* w = panel(id)) m_tabs->setCurrentWidget(w);
}

void MainWindow::showStatus(const QString& message) { m_status->showMessage(message); }

void MainWindow::buildPanels() {
    destroyPanels();
    PanelContext context{*m_store, *m_worker, *m_jobs};
    for (const PanelSpec& spec : m_registry.panels()) {
        QWidget* widget = spec.create(context, m_tabs);
        m_panels.insert(spec.id, widget);
        m_tabs->addTab(widget, spec.title);
    }
    for (const PanelSpec& spec : m_registry.panels())
        if (spec.wire) spec.wire(m_panels.value(spec.id), *this);

    const QString dir = QString::fromStdString(m_store->dir());
    setWindowTitle(tr("%1 \u2014 MoE Studio").arg(QString::fromStdString(m_store->name())));
    if (m_projectButton)
        m_projectButton->setText(tr("Project: %1").arg(QString::fromStdString(m_store->name())));
    ProjectSwitcher::noteOpened(dir);
    resumeProject();
    emit projectChanged(dir);
}

void MainWindow::resumeProject() {
    // Resume where the project left off: the model of the newest chat, else the newest model.
    ModelsPanel* models = modelsPanel();
    if (!models) return;
    qint64 resume = 0;
    if (auto sessions = m_store->chatSessions(); sessions && !sessions->empty()) {
        const auto newest = std::max_element(
            sessions->begin(), sessions->end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
        resume = newest->modelId;
    } else if (auto list = m_store->models(); list && !list->empty()) {
        for (const moe::projects::ModelRecord& m : *list) resume = std::max<qint64>(resume, m.id);
    }
    if (resume != 0) {
        models->selectModel(resume);
        showPanel(QStringLiteral("chat"));
    } else {
        showPanel(QStringLiteral("models"));
        showStatus(tr("Project %1: add a model (a GGUF file or a Hugging Face folder) to start.")
                       .arg(QString::fromStdString(m_store->dir())));
    }
}

void MainWindow::destroyPanels() {
    // Panels reference the store: they go before it does.
    const QHash<QString, QWidget*> panels = std::exchange(m_panels, {});
    for (QWidget* w : panels) {
        m_tabs->removeTab(m_tabs->indexOf(w));
        delete w;
    }
}

void MainWindow::onTabChanged(int index) {
    QWidget* w = m_tabs->widget(index);
    const QString id = m_panels.key(w);
    const PanelSpec* spec = m_registry.find(id);
    if (spec && spec->reloadOnShow) QMetaObject::invokeMethod(w, "reload");
}

void MainWindow::setProject(std::unique_ptr<moe::projects::ProjectStore> store) {
    m_worker->requestStop();
    destroyPanels();
    m_store = std::move(store);
    buildPanels();
    qCInfo(lcShell) << "project" << QString::fromStdString(m_store->dir());
}

bool MainWindow::switchProject(const QString& dir, bool create) {
    const QString absolute = QDir(dir).absolutePath();
    if (absolute == QDir(QString::fromStdString(m_store->dir())).absolutePath()) return true;
    moe::Result<std::unique_ptr<moe::projects::ProjectStore>> store =
        create ? moe::projects::ProjectStore::create(absolute.toStdString(),
                                                     QFileInfo(absolute).fileName().toStdString())
               : openOrCreateProject(absolute);
    if (!store) {
        auto* box = new QMessageBox(QMessageBox::Warning, tr("Open project"),
                                    tr("Could not open %1:\n%2")
                                        .arg(absolute, QString::fromStdString(store.status().toString())),
                                    QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("projectErrorBox"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return false;
    }
    setProject(std::move(store).value());
    return true;
}

void MainWindow::changeEvent(QEvent* event) {
    QMainWindow::changeEvent(event);
    // The desktop switched light/dark: follow it unless the user chose a theme.
    if (event->type() == QEvent::ThemeChange && m_themeMode == ThemeMode::System &&
        systemPrefersDark() != isDarkTheme())
        applyTheme(ThemeMode::System);
}

} // namespace moe::ui
