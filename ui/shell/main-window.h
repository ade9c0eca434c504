// MainWindow: the studio shell over one project. The panels come from a PanelRegistry (Models,
// Chat, Compare, Experts, Runs, and whatever else registers) and sit in tabs (Ctrl+1..9); the
// status area shows the last message, the running jobs (progress, cancel), memory and the compute
// device; the File menu and the toolbar switch projects (new, open, recent); View > Theme picks
// light, dark or the system's. The window owns the project store (injected by app/), the job
// tracker and the chat's engine worker thread; opening another project rebuilds the panels over
// the new store and keeps the worker.
#pragma once

#include "moe/status.h"
#include "shell/panel-registry.h"
#include "shell/theme.h"

#include <QHash>
#include <QMainWindow>
#include <QThread>

#include <memory>

class QActionGroup;
class QTabWidget;
class QToolButton;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

class ChatPanel;
class ComparePanel;
class ExpertsPanel;
class GenerationWorker;
class JobTracker;
class ModelsPanel;
class ProjectSwitcher;
class RunsPanel;
class StatusArea;

class MainWindow : public QMainWindow, public PanelHost {
    Q_OBJECT
public:
    // The built-in panels.
    explicit MainWindow(std::unique_ptr<moe::projects::ProjectStore> store,
                        QWidget* parent = nullptr);
    MainWindow(std::unique_ptr<moe::projects::ProjectStore> store, PanelRegistry registry,
               QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens the project in dir, or creates one (named after the folder) when dir has none.
    static moe::Result<std::unique_ptr<moe::projects::ProjectStore>>
    openOrCreateProject(const QString& dir);

    moe::projects::ProjectStore& store() { return *m_store; }
    ModelsPanel* modelsPanel() const;
    ChatPanel* chatPanel() const;
    ComparePanel* comparePanel() const;
    ExpertsPanel* expertsPanel() const;
    RunsPanel* runsPanel() const;
    StatusArea* statusArea() const { return m_status; }
    QString currentPanelId() const;

    // PanelHost
    QWidget* panel(const QString& id) const override;
    void showPanel(const QString& id) override;
    void showStatus(const QString& message) override;
    JobTracker& jobs() override { return *m_jobs; }

public slots:
    // Opens (or, with create, creates) the project in dir; errors go to a message box.
    bool switchProject(const QString& dir, bool create = false);
    void addModelDialog();
    void showAbout();
    void setThemeMode(moe::ui::ThemeMode mode);

public:
    // Replaces the project: the panels are rebuilt over the new store.
    void setProject(std::unique_ptr<moe::projects::ProjectStore> store);

signals:
    void projectChanged(const QString& dir);

protected:
    void changeEvent(QEvent* event) override;

private:
    void buildMenus();
    void buildPanels();
    void destroyPanels();
    void resumeProject();
    void onTabChanged(int index);

    PanelRegistry m_registry;
    std::unique_ptr<moe::projects::ProjectStore> m_store;
    JobTracker* m_jobs = nullptr;
    QThread m_engineThread;
    GenerationWorker* m_worker = nullptr; // lives on m_engineThread, deleted when it finishes
    QTabWidget* m_tabs = nullptr;
    QHash<QString, QWidget*> m_panels; // by panel id, for the open project
    StatusArea* m_status = nullptr;
    ProjectSwitcher* m_switcher = nullptr;
    QToolButton* m_projectButton = nullptr;
    QActionGroup* m_themeGroup = nullptr;
    ThemeMode m_themeMode = ThemeMode::System;
};

} // namespace moe::ui
