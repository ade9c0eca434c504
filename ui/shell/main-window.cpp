// MainWindow: menus, docks, status bar and the engine worker thread of the studio.
#include "shell/main-window.h"

#include "moe-projects/project-store.h"
#include "moe/version.h"
#include "panels/chat-panel.h"
#include "panels/models-panel.h"
#include "workers/generation-worker.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QIcon>
#include <QKeySequence>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include <algorithm>

// Q_INIT_RESOURCE must run at global scope; moe_ui is static, so its resources need it.
static void initUiResources() { Q_INIT_RESOURCE(resources); }

namespace moe::ui {

Q_LOGGING_CATEGORY(lcShell, "moe.ui.shell")

MainWindow::MainWindow(std::unique_ptr<moe::projects::ProjectStore> store, QWidget* parent)
    : QMainWindow(parent), m_store(std::move(store)) {
    initUiResources();
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/moestudio.svg")));
    resize(1280, 800);

    m_worker = new GenerationWorker;
    m_worker->moveToThread(&m_engineThread);
    connect(&m_engineThread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_engineThread.setObjectName(QStringLiteral("engine"));
    m_engineThread.start();

    m_deviceLabel = new QLabel(tr("Device: ..."), this);
    m_deviceLabel->setObjectName(QStringLiteral("deviceLabel"));
    m_stateLabel = new QLabel(this);
    m_stateLabel->setObjectName(QStringLiteral("stateLabel"));
    statusBar()->addWidget(m_stateLabel, 1);
    statusBar()->addPermanentWidget(m_deviceLabel);
    connect(m_worker, &GenerationWorker::devicesDescribed, this,
            [this](const QString& summary) { m_deviceLabel->setText(tr("Device: %1").arg(summary)); });
    QMetaObject::invokeMethod(m_worker, &GenerationWorker::describeDevices, Qt::QueuedConnection);

    m_modelsDock = new QDockWidget(tr("Models"), this);
    m_modelsDock->setObjectName(QStringLiteral("modelsDock"));
    m_modelsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, m_modelsDock);
    resizeDocks({m_modelsDock}, {370}, Qt::Horizontal);

    buildMenus();
    buildPanels();
}

MainWindow::~MainWindow() {
    // Panels go first (they hold references to the store); the worker finishes its current call.
    m_worker->requestStop();
    delete m_chatPanel;
    delete m_modelsPanel;
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

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Project..."), this, &MainWindow::openProjectDialog);
    open->setShortcut(QKeySequence::Open);
    open->setObjectName(QStringLiteral("openProjectAction"));
    QAction* add = file->addAction(tr("&Add Model File..."), this, &MainWindow::addModelDialog);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    add->setObjectName(QStringLiteral("addModelAction"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName(QStringLiteral("quitAction"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_modelsDock->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About MoE Studio"), this, &MainWindow::showAbout);
    about->setObjectName(QStringLiteral("aboutAction"));
}

void MainWindow::buildPanels() {
    delete m_chatPanel;
    delete m_modelsPanel;
    m_modelsPanel = new ModelsPanel(*m_store, m_modelsDock);
    m_modelsDock->setWidget(m_modelsPanel);
    m_chatPanel = new ChatPanel(*m_store, *m_worker, this);
    setCentralWidget(m_chatPanel);

    connect(m_modelsPanel, &ModelsPanel::modelSelected, m_chatPanel, &ChatPanel::setModel);
    connect(m_modelsPanel, &ModelsPanel::statusMessage, this, &MainWindow::showState);
    connect(m_chatPanel, &ChatPanel::stateChanged, this, &MainWindow::showState);

    setWindowTitle(tr("%1 \u2014 MoE Studio").arg(QString::fromStdString(m_store->name())));
    // Resume where the project left off: the model of the newest chat, else the newest model.
    qint64 resume = 0;
    if (auto sessions = m_store->chatSessions(); sessions && !sessions->empty()) {
        const auto newest = std::max_element(
            sessions->begin(), sessions->end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
        resume = newest->modelId;
    } else if (auto models = m_store->models(); models && !models->empty()) {
        for (const moe::projects::ModelRecord& m : *models) resume = std::max<qint64>(resume, m.id);
    }
    if (resume != 0) m_modelsPanel->selectModel(resume);
    else showState(tr("Project %1: add a model file to start.")
                       .arg(QString::fromStdString(m_store->dir())));
}

void MainWindow::setProject(std::unique_ptr<moe::projects::ProjectStore> store) {
    m_worker->requestStop();
    // The old panels reference the old store: remove them before the store goes.
    delete m_chatPanel;
    m_chatPanel = nullptr;
    delete m_modelsPanel;
    m_modelsPanel = nullptr;
    m_store = std::move(store);
    buildPanels();
    qCInfo(lcShell) << "project" << QString::fromStdString(m_store->dir());
}

void MainWindow::openProjectDialog() {
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Open or create a project folder"), QString::fromStdString(m_store->dir()));
    if (dir.isEmpty()) return;
    auto store = openOrCreateProject(dir);
    if (!store) {
        QMessageBox::warning(this, tr("Open project"),
                             tr("Could not open %1:\n%2")
                                 .arg(dir, QString::fromStdString(store.status().toString())));
        return;
    }
    setProject(std::move(store).value());
}

void MainWindow::addModelDialog() {
    if (m_modelsPanel) m_modelsPanel->chooseModelFile();
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About MoE Studio"),
        tr("<h3>MoE Studio %1</h3><p>A desktop studio for developing and evaluating "
           "Mixture-of-Experts language models.</p><p>Build: %2<br>Qt %3</p>")
            .arg(QString::fromLatin1(moe::versionString()),
                 QString::fromLatin1(moe::buildDescription()).toHtmlEscaped(),
                 QString::fromLatin1(qVersion())));
}

void MainWindow::showState(const QString& message) { m_stateLabel->setText(message); }

} // namespace moe::ui
