// ExpertsPanel: what a MoE model's routers do with a prompt. A RoutingWorker (own thread) runs the
// prompt through the chosen version with routing collection on (and optionally generates a few
// greedy tokens); the panel shows a layer x expert heatmap (token share, mean weight or token
// count, with a color scale), a per-layer utilization histogram against the uniform share, and
// the tokens: clicking one rings its experts on the heatmap and lists them per layer with their
// weights. Every analysis is recorded as a runs row of kind "routing" (config: version, prompt,
// options; result: per-layer expert token counts and balance), which openRun() shows again.
//
//   Idle --run--> Analyzing --analyzed / failed--> Idle
//
// Thread: GUI; the store is used from the GUI thread only.
#pragma once

#include "workers/routing-worker.h"

#include <QLoggingCategory>
#include <QThread>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcExperts)

class JobTracker;
class RoutingHeatmap;
class TokenStrip;
class UtilizationPlot;

class ExpertsPanel : public QWidget {
    Q_OBJECT
public:
    enum class Metric { Share, MeanWeight, Tokens };

    ExpertsPanel(moe::projects::ProjectStore& store, JobTracker* jobs, QWidget* parent = nullptr);
    ~ExpertsPanel() override;

    bool isRunning() const { return m_running; }
    const RoutingResult& result() const { return m_result; }
    qint64 runId() const { return m_runId; }
    RoutingHeatmap* heatmap() const { return m_heatmap; }
    UtilizationPlot* utilization() const { return m_utilization; }
    TokenStrip* tokenStrip() const { return m_tokens; }
    QTableWidget* tokenTable() const { return m_tokenTable; }
    int shownLayer() const { return m_layer; }

public slots:
    // Re-reads the runnable versions (base, quantization, merge).
    void reload();
    void setVersion(qint64 versionId);
    void setPrompt(const QString& text);
    void setGenerateTokens(int n);
    void run();
    void stop();
    void setMetric(Metric metric);
    void showLayer(int layer);
    // Rings token index's experts on the heatmap and lists them per layer (-1 clears).
    void selectToken(int index);
    // Shows a recorded "routing" run (its heatmap and balance; tokens are not recorded).
    bool openRun(qint64 runId);

signals:
    void analysisFinished(qint64 runId);
    void analysisFailed(const QString& error);
    void statusMessage(const QString& message);
    void analyzeRequested(const moe::ui::RoutingRequest& request);

private:
    void buildUi();
    void onAnalyzed(const moe::ui::RoutingResult& result);
    void onFailed(const QString& error);
    void showResult();
    void updateButtons();
    void endJob();

    moe::projects::ProjectStore& m_store;
    JobTracker* m_jobs = nullptr;
    QThread m_thread;
    RoutingWorker* m_worker = nullptr; // lives on m_thread
    bool m_running = false;
    int m_jobId = 0;
    qint64 m_runId = 0;
    RoutingRequest m_request;
    RoutingResult m_result;
    Metric m_metric = Metric::Share;
    int m_layer = -1;

    QComboBox* m_versionCombo = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QCheckBox* m_chatTemplate = nullptr;
    QSpinBox* m_generate = nullptr;
    QSpinBox* m_maxExperts = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QComboBox* m_metricCombo = nullptr;
    QSpinBox* m_layerSpin = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_cellInfo = nullptr;
    RoutingHeatmap* m_heatmap = nullptr;
    UtilizationPlot* m_utilization = nullptr;
    TokenStrip* m_tokens = nullptr;
    QTableWidget* m_tokenTable = nullptr;
};

} // namespace moe::ui
