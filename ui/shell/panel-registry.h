// PanelRegistry: the studio's panels as data, so a new panel (fine-tune wizard, bench) plugs in by
// registering a PanelSpec instead of editing the main window. Each spec names the panel, says
// where it goes in the tab order and how to build it over a project (PanelContext: the store, the
// chat's engine worker, the job tracker) and how to wire it to the other panels and the shell
// (PanelHost). The main window builds every registered panel when a project opens and rebuilds
// them when another project opens.
#pragma once

#include <QKeySequence>
#include <QList>
#include <QString>

#include <functional>

class QWidget;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

class GenerationWorker;
class JobTracker;

struct PanelContext {
    moe::projects::ProjectStore& store;
    GenerationWorker& chatWorker; // the engine worker of the chat panel (shell-owned thread)
    JobTracker& jobs;
};

// What a panel may ask of the shell while it is wired.
class PanelHost {
public:
    virtual ~PanelHost() = default;
    // A built panel by id, or nullptr (not registered, or not built yet).
    virtual QWidget* panel(const QString& id) const = 0;
    virtual void showPanel(const QString& id) = 0;
    virtual void showStatus(const QString& message) = 0;
    virtual JobTracker& jobs() = 0;
};

struct PanelSpec {
    QString id;    // "models", "chat", "compare", "experts", "runs", ...
    QString title; // the tab's text
    int order = 0; // tab position, ascending
    std::function<QWidget*(PanelContext& context, QWidget* parent)> create;
    // Called once every panel of the project is built; connects this panel to the others.
    std::function<void(QWidget* self, PanelHost& host)> wire;
    // Invoke the panel's reload() slot whenever its tab is shown (lists others add to).
    bool reloadOnShow = false;
};

class PanelRegistry {
public:
    // Adds or replaces (same id) a panel.
    void add(PanelSpec spec);
    // Sorted by order, then id.
    const QList<PanelSpec>& panels() const { return m_panels; }
    const PanelSpec* find(const QString& id) const;

private:
    QList<PanelSpec> m_panels;
};

// The studio's own panels: Models, Chat, Compare, Experts, Runs.
void registerBuiltinPanels(PanelRegistry& registry);

} // namespace moe::ui
