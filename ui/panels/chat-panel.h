// ChatPanel: chat with the selected model. Transcript, prompt, Send/Stop, sampling controls, the
// system prompt (set when a chat starts, kept with its session) and a per-session throughput plot. Engine work goes to the injected GenerationWorker (on its own
// thread) through queued signals; the panel records each finished turn (user + assistant rows
// with sampling JSON, seed, stats and device) in the project store and reloads a session's
// history from the store when the model or session changes.
//
//   NoModel --setModel--> Loading --modelLoaded--> Ready --send--> Generating
//      ^                     |                       ^                 |
//      +-----loadFailed------+                       +--finished/failed+
//
// Thread: GUI. The store is used from the GUI thread only.
#pragma once

#include "workers/generation-worker.h"

#include <QHash>
#include <QList>
#include <QLoggingCategory>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcChat)

class ThroughputPlot;
class TranscriptView;

class ChatPanel : public QWidget {
    Q_OBJECT
public:
    enum class State { NoModel, Loading, Ready, Generating };

    ChatPanel(moe::projects::ProjectStore& store, GenerationWorker& worker,
              QWidget* parent = nullptr);
    ~ChatPanel() override;

    State state() const { return m_state; }
    qint64 modelId() const { return m_modelId; }
    qint64 sessionId() const { return m_sessionId; }
    // The sampling controls' values; a random seed is drawn when "random" is checked.
    SamplingSettings samplingSettings();

public slots:
    // Loads the model on the worker and shows its latest chat session (0: no model).
    void setModel(qint64 modelId);
    // Shows a recorded session of the current model (0: a new, not yet recorded chat).
    void setSession(qint64 sessionId);
    void newChat();
    // Sends the prompt edit's text (no-op unless Ready and the text is not blank).
    void send();
    // Puts text in the prompt edit and sends it (scripted demos, screenshots).
    void sendPrompt(const QString& text);
    void stop();

signals:
    void stateChanged(const QString& message);
    void turnRecorded(qint64 sessionId);
    void generateRequested(const moe::ui::GenerationRequest& request);
    void loadRequested(const QString& path);

private:
    void buildUi();
    void setState(State state, const QString& message);
    void updateButtons();
    void reloadSessions(qint64 selectId);
    void reloadHistory();
    void onSessionComboChanged(int index);
    void onModelLoaded(const moe::ui::LoadedModel& model);
    void onLoadFailed(const QString& path, const QString& error);
    void onToken(const QString& text);
    void onFinished(const moe::ui::GenerationResult& result);
    void onFailed(const QString& error);
    void recordTurn(const moe::ui::GenerationResult& result);

    moe::projects::ProjectStore& m_store;
    GenerationWorker& m_worker;
    State m_state = State::NoModel;
    qint64 m_modelId = 0;
    QString m_modelPath;
    QString m_modelName;
    qint64 m_sessionId = 0;
    QList<ChatTurn> m_history; // the shown session's turns, oldest first (no system turn)
    QHash<qint64, QString> m_systemPrompts; // per listed session
    QList<double> m_throughput; // tok/s of the shown session's replies

    // The turn in flight: kept until the worker answers, then recorded.
    QString m_pendingPrompt;
    SamplingSettings m_pendingSampling;
    qint64 m_pendingSessionId = 0;
    qint64 m_pendingModelId = 0;

    QLabel* m_modelLabel = nullptr;
    QComboBox* m_sessionCombo = nullptr;
    QPushButton* m_newChatButton = nullptr;
    TranscriptView* m_transcript = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QPlainTextEdit* m_systemPrompt = nullptr;
    QPushButton* m_sendButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QSpinBox* m_topK = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QDoubleSpinBox* m_minP = nullptr;
    QDoubleSpinBox* m_repeatPenalty = nullptr;
    QCheckBox* m_ignoreEos = nullptr;
    QSpinBox* m_seed = nullptr;
    QCheckBox* m_randomSeed = nullptr;
    ThroughputPlot* m_plot = nullptr;
};

} // namespace moe::ui
