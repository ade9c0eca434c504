// RunsPanel: every run the project recorded, of every kind — training runs, benchmarks, generate
// runs of the CLI, comparisons and routing analyses of the studio (runs rows) and chats (chat
// sessions, listed as kind "chat") — newest first, filterable by kind, status and text (matched
// against the title, model and config/result JSON). Opening one shows it in RunDetails: config,
// metric curves and outputs. Thread: GUI; the store is read from the GUI thread (the list comes
// from history(), an index walk, never the metrics table).
#pragma once

#include <QLoggingCategory>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QTreeWidget;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcRuns)

class RunDetails;

class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(moe::projects::ProjectStore& store, QWidget* parent = nullptr);

    // Rows shown after filtering.
    int visibleCount() const;
    int totalCount() const;
    RunDetails* details() const { return m_details; }
    // The opened row: ("run" | "chat", id), or ("", 0).
    QString openedSource() const { return m_openedSource; }
    qint64 openedId() const { return m_openedId; }

public slots:
    void reload();
    // "" shows all.
    void setKindFilter(const QString& kind);
    void setStatusFilter(const QString& status);
    void setTextFilter(const QString& text);
    bool openRun(qint64 runId);
    bool openChat(qint64 sessionId);

signals:
    void runOpened(const QString& source, qint64 id);
    void statusMessage(const QString& message);

private:
    void applyFilter();
    void onCurrentChanged();
    bool openItemWith(const QString& source, qint64 id);

    moe::projects::ProjectStore& m_store;
    QComboBox* m_kind = nullptr;
    QComboBox* m_status = nullptr;
    QLineEdit* m_text = nullptr;
    QLabel* m_count = nullptr;
    QTreeWidget* m_list = nullptr;
    RunDetails* m_details = nullptr;
    QString m_openedSource;
    qint64 m_openedId = 0;
};

} // namespace moe::ui
