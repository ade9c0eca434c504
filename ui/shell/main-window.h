// MainWindow: the studio shell over one project. The models panel sits in a left dock, the chat
// panel is the central widget, the status bar shows the compute device and what the studio is
// doing. The window owns the project store (injected by app/) and the engine worker thread that
// every panel's engine work goes through; opening another project rebuilds the panels over the
// new store and keeps the worker.
#pragma once

#include "moe/status.h"

#include <QMainWindow>
#include <QThread>

#include <memory>

class QDockWidget;
class QLabel;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

class ChatPanel;
class GenerationWorker;
class ModelsPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(std::unique_ptr<moe::projects::ProjectStore> store,
                        QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens the project in dir, or creates one (named after the folder) when dir has none.
    static moe::Result<std::unique_ptr<moe::projects::ProjectStore>>
    openOrCreateProject(const QString& dir);

    moe::projects::ProjectStore& store() { return *m_store; }
    ModelsPanel* modelsPanel() const { return m_modelsPanel; }
    ChatPanel* chatPanel() const { return m_chatPanel; }

public slots:
    void openProjectDialog();
    void addModelDialog();
    void showAbout();

public:
    // Replaces the project: the panels are rebuilt over the new store.
    void setProject(std::unique_ptr<moe::projects::ProjectStore> store);

private:
    void buildMenus();
    void buildPanels();
    void showState(const QString& message);

    std::unique_ptr<moe::projects::ProjectStore> m_store;
    QThread m_engineThread;
    GenerationWorker* m_worker = nullptr; // lives on m_engineThread, deleted when it finishes
    QDockWidget* m_modelsDock = nullptr;
    ModelsPanel* m_modelsPanel = nullptr;
    ChatPanel* m_chatPanel = nullptr;
    QLabel* m_deviceLabel = nullptr;
    QLabel* m_stateLabel = nullptr;
};

} // namespace moe::ui
