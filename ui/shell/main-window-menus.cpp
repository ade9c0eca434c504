// MainWindow: menus, the project toolbar, the theme choice and the About box.
#include "moe-projects/project-store.h"
#include "moe/version.h"
#include "panels/models-panel.h"
#include "shell/main-window.h"
#include "shell/project-switcher.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QKeySequence>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>

namespace moe::ui {

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    m_switcher->addActions(file);
    file->addSeparator();
    QAction* add = file->addAction(tr("&Add Model..."), this, &MainWindow::addModelDialog);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    add->setObjectName(QStringLiteral("addModelAction"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName(QStringLiteral("quitAction"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    int n = 0;
    for (const PanelSpec& spec : m_registry.panels()) {
        QAction* show = view->addAction(spec.title, this, [this, id = spec.id] { showPanel(id); });
        if (++n <= 9) show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_0 + n)));
    }
    view->addSeparator();
    QMenu* theme = view->addMenu(tr("&Theme"));
    m_themeGroup = new QActionGroup(this);
    for (ThemeMode mode : {ThemeMode::System, ThemeMode::Light, ThemeMode::Dark}) {
        const QString label = mode == ThemeMode::System ? tr("Follow the &system")
                              : mode == ThemeMode::Light ? tr("&Light")
                                                         : tr("&Dark");
        QAction* action = theme->addAction(label, this, [this, mode] { setThemeMode(mode); });
        action->setCheckable(true);
        action->setChecked(mode == m_themeMode);
        action->setObjectName(QStringLiteral("theme-%1").arg(themeModeName(mode)));
        m_themeGroup->addAction(action);
    }

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About MoE Studio"), this, &MainWindow::showAbout);
    about->setObjectName(QStringLiteral("aboutAction"));

    QToolBar* bar = addToolBar(tr("Project"));
    bar->setObjectName(QStringLiteral("projectToolBar"));
    bar->setMovable(false);
    m_projectButton = new QToolButton(bar);
    m_projectButton->setObjectName(QStringLiteral("projectButton"));
    m_projectButton->setPopupMode(QToolButton::InstantPopup);
    m_projectButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* projectMenu = new QMenu(m_projectButton);
    m_switcher->addActions(projectMenu);
    m_projectButton->setMenu(projectMenu);
    bar->addWidget(m_projectButton);
}

void MainWindow::setThemeMode(ThemeMode mode) {
    m_themeMode = mode;
    saveThemeMode(mode);
    applyTheme(mode);
    for (QAction* action : m_themeGroup->actions())
        action->setChecked(action->objectName() == QStringLiteral("theme-%1").arg(themeModeName(mode)));
}

void MainWindow::addModelDialog() {
    showPanel(QStringLiteral("models"));
    if (ModelsPanel* models = modelsPanel()) models->chooseModelFile();
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

} // namespace moe::ui
