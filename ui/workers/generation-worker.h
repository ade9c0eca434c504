// GenerationWorker: the one object that touches the engine for the chat panel. It lives on its own
// QThread, owns the loaded moe::Model and the moe::Session, and answers queued slot calls
// (loadModel, generate, describeDevices) with signals. The GUI thread never calls the engine: it
// emits requests and receives results as queued signals. requestStop() is the one method safe to
// call from any thread; the token callback polls its flag, so a stop lands within one token.
#pragma once

#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QString>

#include <atomic>
#include <cstdint>
#include <memory>

namespace moe {
class Model;
class Session;
} // namespace moe

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcWorker)

struct ChatTurn {
    QString role; // "system", "user", "assistant"
    QString content;
};

struct SamplingSettings {
    double temperature = 0.7;
    double topP = 0.95;
    int topK = 40;
    double minP = 0.0;
    double repetitionPenalty = 1.0;
    bool ignoreEos = false; // generate until max tokens (llama.cpp's --ignore-eos), for timing
    int maxTokens = 256;
    quint64 seed = 0;
};

struct GenerationRequest {
    QList<ChatTurn> messages; // the whole conversation, ending with the new user turn
    SamplingSettings sampling;
};

struct LoadedModel {
    QString path;
    QString name;
    QString architecture;
    int contextSize = 0;
    QString device;
};

struct GenerationResult {
    QString text;
    int promptTokens = 0;
    int generatedTokens = 0;
    int droppedMessages = 0; // oldest turns left out so the prompt fits the context
    double ttftMs = 0;
    double decodeTokPerSec = 0;
    double totalMs = 0;
    QString stopReason; // "eos", "max_tokens", "cancelled", "context_full"
    QString device;
};

class GenerationWorker : public QObject {
    Q_OBJECT
public:
    explicit GenerationWorker(QObject* parent = nullptr);
    ~GenerationWorker() override;

    // Any thread: asks the running generation (if any) to stop after its current token.
    void requestStop();

public slots:
    // Worker thread. Loads the model and creates a CPU session; replaces any previous one.
    void loadModel(const QString& path);
    // Worker thread. Renders the conversation with the model's chat format and streams a reply.
    void generate(const moe::ui::GenerationRequest& request);
    // Worker thread. Emits devicesDescribed with a one-line summary of moe::listDevices().
    void describeDevices();

signals:
    void modelLoaded(const moe::ui::LoadedModel& model);
    void loadFailed(const QString& path, const QString& error);
    void generationStarted();
    // Streamed reply text: whole UTF-8 characters, one or more tokens' worth per signal.
    void tokenReceived(const QString& text);
    void generationFinished(const moe::ui::GenerationResult& result);
    void generationFailed(const QString& error);
    void devicesDescribed(const QString& summary);

private:
    std::shared_ptr<const moe::Model> m_model;
    std::unique_ptr<moe::Session> m_session;
    QString m_device;
    std::atomic<bool> m_stop{false};
};

} // namespace moe::ui

Q_DECLARE_METATYPE(moe::ui::GenerationRequest)
Q_DECLARE_METATYPE(moe::ui::LoadedModel)
Q_DECLARE_METATYPE(moe::ui::GenerationResult)
