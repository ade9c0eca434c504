// ProjectSwitcher: new, open and recent projects. Keeps the recent list (most recent first, at
// most kMaxRecent, folders that still hold a project) in QSettings "projects/recent", fills a
// File menu section and a toolbar button with it, and asks the user for folders; the main window
// opens the chosen project (projectChosen). Thread: GUI.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;
class QWidget;

namespace moe::ui {

class ProjectSwitcher : public QObject {
    Q_OBJECT
public:
    static constexpr int kMaxRecent = 8;

    explicit ProjectSwitcher(QWidget* window);

    // Adds New..., Open..., Open Recent to menu.
    void addActions(QMenu* menu);
    // The recent-projects menu (for a toolbar button); kept up to date.
    QMenu* recentMenu() const { return m_recent; }

    static QStringList recentProjects();
    // Moves dir to the top of the recent list.
    static void noteOpened(const QString& dir);

public slots:
    void newProjectDialog();
    void openProjectDialog();

signals:
    // create: the folder should get a new project (New Project...).
    void projectChosen(const QString& dir, bool create);

private:
    void rebuildRecent();

    QWidget* m_window = nullptr;
    QMenu* m_recent = nullptr;
};

} // namespace moe::ui
