// RunDetails: one run opened from the Runs panel, in three tabs: Config (the run's config JSON,
// indented), Metrics (curves: training loss / eval loss / learning rate / grad norm per step;
// bench samples per metric; tok/s and TTFT per reply of a chat or per output of a comparison) and
// Outputs (the result JSON, bench summaries, checkpoints and artifacts, a chat's transcript, a
// comparison's outputs). Reads the store on the GUI thread (history rows are small; metric
// series are thinned to kMaxPoints by the store). Thread: GUI.
#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QTextBrowser;

namespace moe::projects {
class ProjectStore;
struct RunSummary;
} // namespace moe::projects

namespace moe::ui {

class MetricsPlot;

class RunDetails : public QWidget {
    Q_OBJECT
public:
    explicit RunDetails(QWidget* parent = nullptr);

    void showRun(moe::projects::ProjectStore& store, const moe::projects::RunSummary& run);
    void showChat(moe::projects::ProjectStore& store, qint64 sessionId);
    void showNothing();

    QString configText() const;
    QString outputsText() const;
    MetricsPlot* metricsPlot() const { return m_plot; }
    QTabWidget* tabs() const { return m_tabs; }

private:
    void showTrainingMetrics(moe::projects::ProjectStore& store, qint64 runId);
    void showBenchMetrics(moe::projects::ProjectStore& store, qint64 runId, QString& outputs);
    void showComparison(moe::projects::ProjectStore& store, qint64 comparisonId, QString& outputs);
    void showArtifacts(moe::projects::ProjectStore& store, qint64 runId, QString& outputs);

    QLabel* m_title = nullptr;
    QTabWidget* m_tabs = nullptr;
    QPlainTextEdit* m_config = nullptr;
    MetricsPlot* m_plot = nullptr;
    QLabel* m_plotNote = nullptr;
    QTextBrowser* m_outputs = nullptr;
};

} // namespace moe::ui
