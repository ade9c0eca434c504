// ComparePanel: one prompt, or a prompt set (one prompt per line), sent to 2..N model versions side
// by side. Each selected version gets a VersionRunner (its own worker thread), so the columns
// stream together; each column shows tok/s, TTFT and the token count of its reply. Two columns can
// be word-diffed, and one column per prompt picked as the winner. A run is recorded as it goes:
// a comparisons row (prompts, sampling and version ids), one comparison_outputs cell per (prompt,
// version) with its stats JSON ({"tokens","ttft_ms","tok_s","prompt_tokens","stop_reason",
// "device", "winner"}), and a runs row of kind "compare" whose result names the comparison.
// Past comparisons are listed; opening one shows its recorded outputs, Re-run runs its prompts
// on its versions again as a new comparison.
//
//   Idle --run--> Running --all runners finished / stop--> Idle
//
// Thread: GUI; the store is used from the GUI thread only.
#pragma once

#include "workers/generation-worker.h"

#include <QHash>
#include <QList>
#include <QLoggingCategory>
#include <QPair>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QSplitter;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcCompare)

class CompareColumn;
class JobTracker;
class VersionRunner;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    ComparePanel(moe::projects::ProjectStore& store, JobTracker* jobs, QWidget* parent = nullptr);
    ~ComparePanel() override;

    bool isRunning() const { return m_running > 0; }
    qint64 comparisonId() const { return m_comparisonId; }
    QList<qint64> checkedVersions() const;
    int promptIndex() const;
    // The shown prompt's output of a version column ("" when none).
    QString outputText(qint64 versionId) const;
    CompareColumn* column(qint64 versionId) const;

public slots:
    // Re-reads the versions that can run (base, quantization, merge) and past comparisons.
    void reload();
    void setCheckedVersions(const QList<qint64>& versionIds);
    // The prompt box's text; with perLine each non-empty line is one prompt.
    void setPrompts(const QString& text, bool perLine);
    // Starts a new comparison of the prompt box on the checked versions (needs 2 or more).
    void run();
    void stop();
    // Shows a recorded comparison (its prompts, versions, outputs and winners).
    void openComparison(qint64 comparisonId);
    // Runs the shown comparison's prompts on its versions again, as a new comparison.
    void rerun();
    // Marks versionId the winner of the shown prompt (again: clears it) and records it.
    void pickWinner(qint64 versionId);
    void showPrompt(int index);
    void setDiffEnabled(bool on);

protected:
    void changeEvent(QEvent* event) override; // re-renders the diff for a new theme

signals:
    void comparisonStarted(qint64 comparisonId);
    void comparisonFinished(qint64 comparisonId);
    void statusMessage(const QString& message);

private:
    struct Cell {
        QString text;
        QString statsJson;
        bool done = false;
        bool winner = false;
        bool streaming = false;
        QString error;
    };
    using CellKey = QPair<int, qint64>; // (prompt index, version id)

    void buildUi();
    void start(const QStringList& prompts, const QList<qint64>& versions, const QString& name);
    void buildColumns(const QList<qint64>& versions);
    void refreshColumns();
    void refreshDiff();
    void reloadComparisons();
    void updateButtons();
    void onPromptFinished(qint64 versionId, int index, const moe::ui::GenerationResult& result);
    void onRunnerFinished();
    void finishRun();
    QString versionTitle(qint64 versionId) const;
    VersionRunner* runnerFor(qint64 versionId, const QString& path);
    SamplingSettings sampling() const;

    moe::projects::ProjectStore& m_store;
    JobTracker* m_jobs = nullptr;
    QHash<qint64, VersionRunner*> m_runners; // by version id, kept loaded between runs
    QHash<qint64, QString> m_versionPaths;
    QHash<qint64, QString> m_versionTitles;

    qint64 m_comparisonId = 0;
    qint64 m_runId = 0;
    int m_jobId = 0;
    int m_running = 0; // runners still going
    bool m_stopped = false;
    bool m_failed = false;
    QStringList m_prompts;
    QList<qint64> m_columns; // version ids, column order
    QHash<CellKey, Cell> m_cells;

    QListWidget* m_versionList = nullptr;
    QPlainTextEdit* m_promptEdit = nullptr;
    QCheckBox* m_perLine = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QSpinBox* m_seed = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QListWidget* m_comparisonList = nullptr;
    QPushButton* m_rerunButton = nullptr;
    QComboBox* m_promptCombo = nullptr;
    QCheckBox* m_diff = nullptr;
    QComboBox* m_diffA = nullptr;
    QComboBox* m_diffB = nullptr;
    QLabel* m_diffSummary = nullptr;
    QSplitter* m_columnSplit = nullptr;
    QList<CompareColumn*> m_columnWidgets;
};

} // namespace moe::ui
