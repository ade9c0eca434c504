// ProjectSwitcher: new/open/recent projects kept in QSettings (see the header).
#include "shell/project-switcher.h"

#include "moe-projects/project-store.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeySequence>
#include <QMenu>
#include <QSettings>

namespace moe::ui {

namespace {

constexpr auto kRecentKey = "projects/recent";

} // namespace

ProjectSwitcher::ProjectSwitcher(QWidget* window) : QObject(window), m_window(window) {
    m_recent = new QMenu(tr("Open &Recent"), window);
    m_recent->setObjectName(QStringLiteral("recentProjectsMenu"));
    connect(m_recent, &QMenu::aboutToShow, this, &ProjectSwitcher::rebuildRecent);
    rebuildRecent();
}

void ProjectSwitcher::addActions(QMenu* menu) {
    QAction* create = menu->addAction(tr("&New Project..."), this, &ProjectSwitcher::newProjectDialog);
    create->setShortcut(QKeySequence::New);
    create->setObjectName(QStringLiteral("newProjectAction"));
    QAction* open = menu->addAction(tr("&Open Project..."), this, &ProjectSwitcher::openProjectDialog);
    open->setShortcut(QKeySequence::Open);
    open->setObjectName(QStringLiteral("openProjectAction"));
    menu->addMenu(m_recent);
}

QStringList ProjectSwitcher::recentProjects() {
    QStringList out;
    for (const QString& dir : QSettings().value(QLatin1String(kRecentKey)).toStringList())
        if (moe::projects::ProjectStore::exists(dir.toStdString()) && !out.contains(dir)) out << dir;
    return out;
}

void ProjectSwitcher::noteOpened(const QString& dir) {
    const QString absolute = QDir(dir).absolutePath();
    QStringList list = recentProjects();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > kMaxRecent) list.removeLast();
    QSettings().setValue(QLatin1String(kRecentKey), list);
}

void ProjectSwitcher::rebuildRecent() {
    m_recent->clear();
    const QStringList list = recentProjects();
    for (int i = 0; i < list.size(); ++i) {
        const QString dir = list[i];
        QAction* action = m_recent->addAction(
            QStringLiteral("&%1 %2  \u2014  %3").arg(i + 1).arg(QFileInfo(dir).fileName(), dir));
        connect(action, &QAction::triggered, this, [this, dir] { emit projectChosen(dir, false); });
    }
    if (list.isEmpty()) m_recent->addAction(tr("No recent projects"))->setEnabled(false);
    m_recent->addSeparator();
    m_recent->addAction(tr("Clear list"), this, [] { QSettings().remove(QLatin1String(kRecentKey)); });
}

void ProjectSwitcher::newProjectDialog() {
    const QString dir = QFileDialog::getSaveFileName(
        m_window, tr("New project: choose a name and a place for its folder"), QDir::homePath(),
        QString(), nullptr, QFileDialog::ShowDirsOnly);
    if (!dir.isEmpty()) emit projectChosen(dir, true);
}

void ProjectSwitcher::openProjectDialog() {
    const QStringList recent = recentProjects();
    const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Open a project folder"),
                                                          recent.isEmpty() ? QDir::homePath() : recent.front());
    if (!dir.isEmpty()) emit projectChosen(dir, false);
}

} // namespace moe::ui
