// GenerationWorker: engine calls for the chat panel, on the worker thread (see the header).
// A request carries the whole conversation; the worker renders it with the model's chat format
// and, when the prompt would not leave room for a reply, drops the oldest turns (never a system
// turn or the new user turn) and says how many in the result.
#include "workers/generation-worker.h"

#include "moe/devices.h"
#include "moe/model.h"
#include "moe/session.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QStringList>

#include <algorithm>
#include <limits>
#include <vector>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcWorker, "moe.ui.worker")

namespace {

constexpr qint64 kStreamIntervalMs = 25;

QString toQString(const std::string& s) { return QString::fromStdString(s); }

QString deviceLabel(const moe::DeviceInfo& device) {
    QString label = toQString(device.backend);
    if (!device.name.empty()) label += QStringLiteral(": ") + toQString(device.name);
    return label;
}

std::vector<moe::ChatMessage> toEngineMessages(const QList<ChatTurn>& turns, int dropOldest) {
    std::vector<moe::ChatMessage> out;
    int dropped = 0;
    for (int i = 0; i < turns.size(); ++i) {
        const ChatTurn& turn = turns[i];
        const bool droppable = turn.role != QLatin1String("system") && i + 1 < turns.size();
        if (droppable && dropped < dropOldest) {
            ++dropped;
            continue;
        }
        out.push_back({turn.role.toStdString(), turn.content.toStdString()});
    }
    return out;
}

int droppableTurns(const QList<ChatTurn>& turns) {
    int n = 0;
    for (int i = 0; i + 1 < turns.size(); ++i)
        if (turns[i].role != QLatin1String("system")) ++n;
    return n;
}

} // namespace

GenerationWorker::GenerationWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<moe::ui::GenerationRequest>();
    qRegisterMetaType<moe::ui::LoadedModel>();
    qRegisterMetaType<moe::ui::GenerationResult>();
}

GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::requestStop() { m_stop.store(true); }

void GenerationWorker::describeDevices() {
    const moe::DeviceReport report = moe::listDevices();
    QStringList parts;
    for (const moe::DeviceInfo& device : report.devices) parts << deviceLabel(device);
    if (parts.isEmpty()) parts << QStringLiteral("no device");
    emit devicesDescribed(parts.join(QStringLiteral(" | ")));
}

void GenerationWorker::loadModel(const QString& path) {
    m_session.reset();
    m_model.reset();
    qCInfo(lcWorker) << "loading" << path;
    auto model = moe::Model::load(path.toStdString());
    if (!model) {
        emit loadFailed(path, toQString(model.status().toString()));
        return;
    }
    if (!(*model)->hasTokenizer()) {
        emit loadFailed(path, tr("The model has no tokenizer (a Hugging Face folder needs its "
                                 "tokenizer.json to chat)."));
        return;
    }
    // The best device there is (a CUDA GPU, else a Vulkan GPU, else the CPU); a GPU that cannot
    // take the model (out of memory, a device error) leaves the CPU to run it.
    moe::SessionOptions options;
    options.device = "auto";
    auto session = moe::Session::create(*model, options);
    QString fallback;
    if (!session && options.device != "cpu") {
        fallback = toQString(session.status().toString());
        options.device = "cpu";
        session = moe::Session::create(*model, options);
    }
    if (!session) {
        emit loadFailed(path, toQString(session.status().toString()));
        return;
    }
    m_model = std::move(model).value();
    m_session = std::move(session).value();

    m_device = toQString(m_session->device());
    for (const moe::DeviceInfo& device : moe::listDevices().devices)
        if (device.backend + ":" + std::to_string(device.index) == m_session->device() ||
            (device.backend == "cpu" && m_session->device() == "cpu"))
            m_device = deviceLabel(device);
    if (!fallback.isEmpty()) {
        qCWarning(lcWorker) << "GPU session failed, running on the CPU:" << fallback;
        m_device += tr(" (GPU unavailable: %1)").arg(fallback);
    }

    LoadedModel loaded;
    loaded.path = path;
    loaded.name = toQString(m_model->spec().name);
    if (loaded.name.isEmpty()) loaded.name = QFileInfo(path).fileName();
    loaded.architecture = toQString(m_model->spec().architecture);
    loaded.contextSize = m_session->contextSize();
    loaded.device = m_device;
    qCInfo(lcWorker) << "loaded" << loaded.name << "context" << loaded.contextSize;
    emit modelLoaded(loaded);
}

void GenerationWorker::generate(const GenerationRequest& request) {
    m_stop.store(false);
    if (!m_model || !m_session) {
        emit generationFailed(tr("No model is loaded."));
        return;
    }
    if (request.messages.isEmpty()) {
        emit generationFailed(tr("The conversation is empty."));
        return;
    }
    const int contextSize = m_session->contextSize();
    // Leave room for a reply: a quarter of the context, or maxTokens when that is less.
    const int reserve = std::max(1, std::min(request.sampling.maxTokens, contextSize / 4));

    std::vector<int32_t> prompt;
    int dropped = 0;
    const int maxDrop = droppableTurns(request.messages);
    for (;; ++dropped) {
        // The template writes the special tokens it wants (BOS included), as in transformers.
        auto encoded = m_model->encodeChat(toEngineMessages(request.messages, dropped), true);
        if (!encoded) {
            emit generationFailed(toQString(encoded.status().toString()));
            return;
        }
        prompt = std::move(encoded).value();
        if (static_cast<int>(prompt.size()) + reserve <= contextSize || dropped >= maxDrop) break;
    }
    if (static_cast<int>(prompt.size()) >= contextSize) {
        emit generationFailed(tr("The prompt has %1 tokens; the context holds %2.")
                                  .arg(prompt.size())
                                  .arg(contextSize));
        return;
    }

    moe::SamplingParams params;
    params.temperature = static_cast<float>(request.sampling.temperature);
    params.topP = static_cast<float>(request.sampling.topP);
    params.topK = request.sampling.topK;
    params.maxTokens = request.sampling.maxTokens;
    params.seed = request.sampling.seed;
    params.minP = static_cast<float>(request.sampling.minP);
    params.repetitionPenalty = static_cast<float>(request.sampling.repetitionPenalty);
    if (request.sampling.ignoreEos) {
        const moe::Tokenizer& tokenizer = m_model->tokenizer();
        for (int32_t id : {tokenizer.eosId(), tokenizer.eotId()})
            if (id >= 0) params.logitBias[id] = -std::numeric_limits<float>::infinity();
    }

    emit generationStarted();
    // Streamed text goes out in pieces at most every kStreamIntervalMs: a small model makes
    // thousands of tokens a second, more queued signals than a GUI thread should paint.
    QString pending;
    QElapsedTimer sinceEmit;
    sinceEmit.start();
    auto stats = m_session->generate(prompt, params, [&](const moe::TokenEvent& event) {
        pending += toQString(event.text);
        if (!pending.isEmpty() && sinceEmit.elapsed() >= kStreamIntervalMs) {
            emit tokenReceived(pending);
            pending.clear();
            sinceEmit.restart();
        }
        return !m_stop.load();
    });
    if (!pending.isEmpty()) emit tokenReceived(pending);
    if (!stats) {
        emit generationFailed(toQString(stats.status().toString()));
        return;
    }
    GenerationResult result;
    result.text = toQString(stats->text);
    result.promptTokens = stats->promptTokens;
    result.generatedTokens = stats->generatedTokens;
    result.droppedMessages = dropped;
    result.ttftMs = stats->ttftMs;
    result.decodeTokPerSec = stats->decodeTokPerSec;
    result.totalMs = stats->totalMs;
    result.stopReason = QString::fromLatin1(moe::stopReasonName(stats->stopReason));
    result.device = m_device;
    emit generationFinished(result);
}

} // namespace moe::ui
