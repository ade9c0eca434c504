// The studio's built-in panels and how they talk to each other: selecting a model in the library
// loads it in the chat; adding a model or version refreshes the version lists of Compare and
// Experts; finished comparisons, routing analyses and chat turns refresh Runs; every panel's
// status line goes to the shell; model checks and inspections show as jobs.
#include "panels/chat-panel.h"
#include "panels/compare-panel.h"
#include "panels/experts-panel.h"
#include "panels/models-panel.h"
#include "panels/runs-panel.h"
#include "shell/job-tracker.h"
#include "shell/panel-registry.h"

#include <QHash>
#include <QPointer>

namespace moe::ui {

namespace {

template <typename T>
T* panelAs(PanelHost& host, const char* id) {
    return qobject_cast<T*>(host.panel(QString::fromLatin1(id)));
}

void wireModels(QWidget* self, PanelHost& host) {
    auto* models = qobject_cast<ModelsPanel*>(self);
    PanelHost* h = &host;
    QObject::connect(models, &ModelsPanel::statusMessage, models, [h](const QString& m) { h->showStatus(m); });
    // Probes and inspections are jobs of the status area (not cancellable: they are short).
    auto jobIds = std::make_shared<QHash<QString, int>>();
    QObject::connect(models, &ModelsPanel::busyChanged, models, [h, jobIds](const QString& what, bool busy) {
        if (busy) jobIds->insert(what, h->jobs().start(what));
        else h->jobs().finish(jobIds->take(what));
    });
    if (auto* chat = panelAs<ChatPanel>(host, "chat"))
        QObject::connect(models, &ModelsPanel::modelSelected, chat, &ChatPanel::setModel);
    for (const char* id : {"compare", "experts"}) {
        QPointer<QWidget> target = host.panel(QString::fromLatin1(id));
        if (!target) continue;
        auto refresh = [target] { QMetaObject::invokeMethod(target, "reload"); };
        QObject::connect(models, &ModelsPanel::modelAdded, target, refresh);
        QObject::connect(models, &ModelsPanel::versionAdded, target, refresh);
    }
}

void wireChat(QWidget* self, PanelHost& host) {
    auto* chat = qobject_cast<ChatPanel*>(self);
    PanelHost* h = &host;
    QObject::connect(chat, &ChatPanel::stateChanged, chat, [h](const QString& m) { h->showStatus(m); });
    if (auto* runs = panelAs<RunsPanel>(host, "runs"))
        QObject::connect(chat, &ChatPanel::turnRecorded, runs, &RunsPanel::reload);
}

void wireCompare(QWidget* self, PanelHost& host) {
    auto* compare = qobject_cast<ComparePanel*>(self);
    PanelHost* h = &host;
    QObject::connect(compare, &ComparePanel::statusMessage, compare, [h](const QString& m) { h->showStatus(m); });
    if (auto* runs = panelAs<RunsPanel>(host, "runs")) {
        QObject::connect(compare, &ComparePanel::comparisonStarted, runs, &RunsPanel::reload);
        QObject::connect(compare, &ComparePanel::comparisonFinished, runs, &RunsPanel::reload);
    }
}

void wireExperts(QWidget* self, PanelHost& host) {
    auto* experts = qobject_cast<ExpertsPanel*>(self);
    PanelHost* h = &host;
    QObject::connect(experts, &ExpertsPanel::statusMessage, experts, [h](const QString& m) { h->showStatus(m); });
    if (auto* runs = panelAs<RunsPanel>(host, "runs")) {
        QObject::connect(experts, &ExpertsPanel::analysisFinished, runs, &RunsPanel::reload);
        QObject::connect(experts, &ExpertsPanel::analysisFailed, runs, &RunsPanel::reload);
    }
}

void wireRuns(QWidget* self, PanelHost& host) {
    auto* runs = qobject_cast<RunsPanel*>(self);
    PanelHost* h = &host;
    QObject::connect(runs, &RunsPanel::statusMessage, runs, [h](const QString& m) { h->showStatus(m); });
}

} // namespace

void registerBuiltinPanels(PanelRegistry& registry) {
    registry.add({QStringLiteral("models"), QObject::tr("Models"), 10,
                  [](PanelContext& c, QWidget* parent) -> QWidget* { return new ModelsPanel(c.store, parent); },
                  wireModels});
    registry.add({QStringLiteral("chat"), QObject::tr("Chat"), 20,
                  [](PanelContext& c, QWidget* parent) -> QWidget* {
                      return new ChatPanel(c.store, c.chatWorker, parent);
                  },
                  wireChat});
    registry.add({QStringLiteral("compare"), QObject::tr("Compare"), 30,
                  [](PanelContext& c, QWidget* parent) -> QWidget* {
                      return new ComparePanel(c.store, &c.jobs, parent);
                  },
                  wireCompare});
    registry.add({QStringLiteral("experts"), QObject::tr("Experts"), 40,
                  [](PanelContext& c, QWidget* parent) -> QWidget* {
                      return new ExpertsPanel(c.store, &c.jobs, parent);
                  },
                  wireExperts});
    registry.add({QStringLiteral("runs"), QObject::tr("Runs"), 90,
                  [](PanelContext& c, QWidget* parent) -> QWidget* { return new RunsPanel(c.store, parent); },
                  wireRuns, true});
}

} // namespace moe::ui
