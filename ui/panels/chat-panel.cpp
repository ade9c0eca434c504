// ChatPanel: streaming chat over the GenerationWorker, recorded in the project store.
#include "panels/chat-panel.h"

#include "moe-projects/project-store.h"
#include "widgets/formatting.h"
#include "widgets/throughput-plot.h"
#include "widgets/transcript-view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeySequence>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcChat, "moe.ui.chat")

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

std::string samplingJson(const SamplingSettings& s) {
    QJsonObject o;
    o[QStringLiteral("temperature")] = s.temperature;
    o[QStringLiteral("top_k")] = s.topK;
    o[QStringLiteral("top_p")] = s.topP;
    o[QStringLiteral("min_p")] = s.minP;
    o[QStringLiteral("repetition_penalty")] = s.repetitionPenalty;
    o[QStringLiteral("ignore_eos")] = s.ignoreEos;
    o[QStringLiteral("max_tokens")] = s.maxTokens;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

QString sessionTitle(const QString& prompt) {
    QString title = prompt.simplified();
    if (title.size() > 48) title = title.left(47) + QChar(0x2026);
    return title;
}

} // namespace

ChatPanel::ChatPanel(moe::projects::ProjectStore& store, GenerationWorker& worker,
                     QWidget* parent)
    : QWidget(parent), m_store(store), m_worker(worker) {
    setObjectName(QStringLiteral("chatPanel"));
    buildUi();

    // Requests cross to the worker thread as queued calls; answers come back the same way.
    connect(this, &ChatPanel::loadRequested, &m_worker, &GenerationWorker::loadModel);
    connect(this, &ChatPanel::generateRequested, &m_worker, &GenerationWorker::generate);
    connect(&m_worker, &GenerationWorker::modelLoaded, this, &ChatPanel::onModelLoaded);
    connect(&m_worker, &GenerationWorker::loadFailed, this, &ChatPanel::onLoadFailed);
    connect(&m_worker, &GenerationWorker::tokenReceived, this, &ChatPanel::onToken);
    connect(&m_worker, &GenerationWorker::generationFinished, this, &ChatPanel::onFinished);
    connect(&m_worker, &GenerationWorker::generationFailed, this, &ChatPanel::onFailed);

    connect(m_sendButton, &QPushButton::clicked, this, &ChatPanel::send);
    connect(m_stopButton, &QPushButton::clicked, this, &ChatPanel::stop);
    connect(m_newChatButton, &QPushButton::clicked, this, &ChatPanel::newChat);
    connect(m_sessionCombo, &QComboBox::currentIndexChanged, this,
            &ChatPanel::onSessionComboChanged);
    connect(m_randomSeed, &QCheckBox::toggled, m_seed, &QWidget::setDisabled);
    connect(m_prompt, &QPlainTextEdit::textChanged, this, &ChatPanel::updateButtons);
    auto* sendShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), m_prompt);
    connect(sendShortcut, &QShortcut::activated, this, &ChatPanel::send);

    setState(State::NoModel, tr("Select or add a model to start chatting."));
}

ChatPanel::~ChatPanel() {
    // A reply in flight would outlive the panel: ask it to stop; its signals die with us.
    if (m_state == State::Generating) m_worker.requestStop();
}

void ChatPanel::buildUi() {
    m_modelLabel = new QLabel(this);
    m_modelLabel->setObjectName(QStringLiteral("chatModelLabel"));
    m_modelLabel->setTextFormat(Qt::RichText);
    m_sessionCombo = new QComboBox(this);
    m_sessionCombo->setObjectName(QStringLiteral("sessionCombo"));
    m_sessionCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sessionCombo->setMinimumContentsLength(24);
    m_newChatButton = new QPushButton(tr("New chat"), this);
    m_newChatButton->setObjectName(QStringLiteral("newChatButton"));

    auto* top = new QHBoxLayout;
    top->addWidget(m_modelLabel, 1);
    top->addWidget(new QLabel(tr("Session:"), this));
    top->addWidget(m_sessionCombo);
    top->addWidget(m_newChatButton);

    m_transcript = new TranscriptView(this);

    m_prompt = new QPlainTextEdit(this);
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setPlaceholderText(tr("Type a message (Ctrl+Enter sends)"));
    m_prompt->setTabChangesFocus(true);
    m_prompt->setMinimumHeight(60);
    m_sendButton = new QPushButton(tr("Send"), this);
    m_sendButton->setObjectName(QStringLiteral("sendButton"));
    m_sendButton->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"), this);
    m_stopButton->setObjectName(QStringLiteral("stopButton"));
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_sendButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);
    auto* promptRow = new QWidget(this);
    auto* promptLayout = new QHBoxLayout(promptRow);
    promptLayout->setContentsMargins(0, 0, 0, 0);
    promptLayout->addWidget(m_prompt, 1);
    promptLayout->addLayout(buttons);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_transcript);
    split->addWidget(promptRow);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 0);
    split->setChildrenCollapsible(false);
    split->setSizes({600, 90});

    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setObjectName(QStringLiteral("temperatureSpin"));
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0.7);
    m_temperature->setToolTip(tr("0 is greedy (always the most likely token)"));
    m_topP = new QDoubleSpinBox(this);
    m_topP->setObjectName(QStringLiteral("topPSpin"));
    m_topP->setRange(0.0, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.95);
    m_topP->setToolTip(tr("1 turns nucleus sampling off"));
    m_topK = new QSpinBox(this);
    m_topK->setObjectName(QStringLiteral("topKSpin"));
    m_topK->setRange(0, 1000);
    m_topK->setValue(40);
    m_topK->setSpecialValueText(tr("off"));
    m_maxTokens = new QSpinBox(this);
    m_maxTokens->setObjectName(QStringLiteral("maxTokensSpin"));
    m_maxTokens->setRange(1, 1 << 20);
    m_maxTokens->setValue(256);
    m_minP = new QDoubleSpinBox(this);
    m_minP->setObjectName(QStringLiteral("minPSpin"));
    m_minP->setRange(0.0, 1.0);
    m_minP->setSingleStep(0.01);
    m_minP->setValue(0.0);
    m_minP->setSpecialValueText(tr("off"));
    m_minP->setToolTip(tr("Drop tokens less likely than this fraction of the most likely one"));
    m_repeatPenalty = new QDoubleSpinBox(this);
    m_repeatPenalty->setObjectName(QStringLiteral("repeatPenaltySpin"));
    m_repeatPenalty->setRange(1.0, 3.0);
    m_repeatPenalty->setSingleStep(0.05);
    m_repeatPenalty->setValue(1.0);
    m_repeatPenalty->setSpecialValueText(tr("off"));
    m_repeatPenalty->setToolTip(tr("Repetition penalty over the last 64 tokens (1 = off)"));
    m_ignoreEos = new QCheckBox(tr("Ignore end of text"), this);
    m_ignoreEos->setObjectName(QStringLiteral("ignoreEosCheck"));
    m_ignoreEos->setToolTip(tr("Generate until Max tokens even when the model would stop (for timing)"));
    m_seed = new QSpinBox(this);
    m_seed->setObjectName(QStringLiteral("seedSpin"));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(1);
    m_randomSeed = new QCheckBox(tr("random"), this);
    m_randomSeed->setObjectName(QStringLiteral("randomSeedCheck"));
    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(m_seed, 1);
    seedRow->addWidget(m_randomSeed);

    auto* samplingBox = new QGroupBox(tr("Sampling"), this);
    auto* form = new QFormLayout(samplingBox);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Top-p"), m_topP);
    form->addRow(tr("Top-k"), m_topK);
    form->addRow(tr("Min-p"), m_minP);
    form->addRow(tr("Repeat penalty"), m_repeatPenalty);
    form->addRow(tr("Max tokens"), m_maxTokens);
    form->addRow(QString(), m_ignoreEos);
    form->addRow(tr("Seed"), seedRow);

    m_systemPrompt = new QPlainTextEdit(this);
    m_systemPrompt->setObjectName(QStringLiteral("systemPromptEdit"));
    m_systemPrompt->setPlaceholderText(tr("Optional; set when a chat starts"));
    m_systemPrompt->setTabChangesFocus(true);
    m_systemPrompt->setFixedHeight(m_systemPrompt->fontMetrics().lineSpacing() * 4 + 12);
    auto* systemBox = new QGroupBox(tr("System prompt"), this);
    auto* systemLayout = new QVBoxLayout(systemBox);
    systemLayout->addWidget(m_systemPrompt);

    m_plot = new ThroughputPlot(this);
    auto* plotBox = new QGroupBox(tr("Decode speed (this chat)"), this);
    auto* plotLayout = new QVBoxLayout(plotBox);
    plotLayout->addWidget(m_plot);

    auto* side = new QVBoxLayout;
    side->addWidget(systemBox);
    side->addWidget(samplingBox);
    side->addWidget(plotBox, 1);

    auto* body = new QHBoxLayout;
    body->addWidget(split, 1);
    body->addLayout(side);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addLayout(body, 1);
}

SamplingSettings ChatPanel::samplingSettings() {
    if (m_randomSeed->isChecked())
        m_seed->setValue(static_cast<int>(QRandomGenerator::global()->bounded(1u << 31)));
    SamplingSettings s;
    s.temperature = m_temperature->value();
    s.topP = m_topP->value();
    s.topK = m_topK->value();
    s.minP = m_minP->value();
    s.repetitionPenalty = m_repeatPenalty->value();
    s.ignoreEos = m_ignoreEos->isChecked();
    s.maxTokens = m_maxTokens->value();
    s.seed = static_cast<quint64>(m_seed->value());
    return s;
}

void ChatPanel::setState(State state, const QString& message) {
    m_state = state;
    updateButtons();
    emit stateChanged(message);
}

void ChatPanel::updateButtons() {
    const bool ready = m_state == State::Ready;
    m_sendButton->setEnabled(ready && !m_prompt->toPlainText().trimmed().isEmpty());
    m_stopButton->setEnabled(m_state == State::Generating);
    m_newChatButton->setEnabled(m_modelId != 0 && m_state != State::Generating);
    m_sessionCombo->setEnabled(m_modelId != 0 && m_state != State::Generating);
}

void ChatPanel::setModel(qint64 modelId) {
    if (modelId == m_modelId) return;
    if (m_state == State::Generating) m_worker.requestStop();
    m_modelId = modelId;
    m_modelPath.clear();
    m_modelName.clear();
    if (modelId == 0) {
        m_modelLabel->clear();
        reloadSessions(0);
        setState(State::NoModel, tr("Select or add a model to start chatting."));
        return;
    }
    auto model = m_store.model(modelId);
    if (!model) {
        m_modelId = 0;
        m_transcript->addNotice(fromStd(model.status().toString()));
        setState(State::NoModel, tr("Model %1 is not in the project.").arg(modelId));
        return;
    }
    m_modelPath = fromStd(model->path);
    m_modelName = fromStd(model->name);
    m_modelLabel->setText(tr("<b>%1</b> <span style='color:#777'>%2</span>")
                              .arg(m_modelName.toHtmlEscaped(),
                                   fromStd(model->architecture).toHtmlEscaped()));
    reloadSessions(-1);
    if (m_state != State::Generating) setState(State::Loading, tr("Loading %1...").arg(m_modelName));
    qCInfo(lcChat) << "loading model" << modelId << m_modelPath;
    emit loadRequested(m_modelPath);
}

// selectId: a session id, 0 for a new chat, -1 for the model's newest session.
void ChatPanel::reloadSessions(qint64 selectId) {
    QSignalBlocker block(m_sessionCombo);
    m_sessionCombo->clear();
    m_systemPrompts.clear();
    m_sessionCombo->addItem(tr("New chat"), QVariant::fromValue<qint64>(0));
    std::vector<moe::projects::ChatSessionRecord> sessions;
    if (m_modelId != 0) {
        auto listed = m_store.chatSessions(m_modelId);
        if (listed) sessions = std::move(listed).value();
        else m_transcript->addNotice(fromStd(listed.status().toString()));
    }
    std::sort(sessions.begin(), sessions.end(),
              [](const auto& a, const auto& b) { return a.id > b.id; });
    for (const moe::projects::ChatSessionRecord& s : sessions) {
        m_sessionCombo->insertItem(m_sessionCombo->count() - 1, fromStd(s.title),
                                   QVariant::fromValue<qint64>(s.id));
        m_systemPrompts.insert(s.id, fromStd(s.systemPrompt));
    }
    if (selectId < 0) selectId = sessions.empty() ? 0 : sessions.front().id;
    const int index = m_sessionCombo->findData(QVariant::fromValue<qint64>(selectId));
    m_sessionCombo->setCurrentIndex(index < 0 ? m_sessionCombo->count() - 1 : index);
    m_sessionId = m_sessionCombo->currentData().toLongLong();
    reloadHistory();
}

void ChatPanel::setSession(qint64 sessionId) {
    if (m_state == State::Generating) return;
    reloadSessions(sessionId);
}

void ChatPanel::newChat() { setSession(0); }

void ChatPanel::onSessionComboChanged(int index) {
    if (index < 0) return;
    m_sessionId = m_sessionCombo->itemData(index).toLongLong();
    reloadHistory();
}

void ChatPanel::reloadHistory() {
    m_transcript->clearTranscript();
    m_history.clear();
    m_throughput.clear();
    // A recorded chat keeps the system prompt it started with; a new chat takes a new one.
    m_systemPrompt->setReadOnly(m_sessionId != 0);
    m_systemPrompt->setPlaceholderText(m_sessionId != 0 ? tr("(none for this chat)")
                                                        : tr("Optional; set when a chat starts"));
    if (m_sessionId != 0) m_systemPrompt->setPlainText(m_systemPrompts.value(m_sessionId));
    if (m_sessionId != 0) {
        const QString system = m_systemPrompts.value(m_sessionId);
        if (!system.isEmpty()) m_transcript->addMessage(QStringLiteral("system"), system);
        auto messages = m_store.messages(m_sessionId);
        if (!messages) {
            m_transcript->addNotice(fromStd(messages.status().toString()));
        } else {
            for (const moe::projects::MessageRecord& m : *messages) {
                const QString role = fromStd(m.role);
                const QString content = fromStd(m.content);
                QString stats;
                if (role == QLatin1String("assistant")) {
                    stats = formatGenerationStats(m.tokensPerSecond, m.ttftMs, m.generatedTokens,
                                                  fromStd(m.stopReason)) +
                            tr(" \u00b7 seed %1").arg(m.seed);
                    m_throughput.append(m.tokensPerSecond);
                }
                m_transcript->addMessage(role, content, stats);
                m_history.append({role, content});
            }
        }
    } else if (m_modelId != 0) {
        m_transcript->addNotice(tr("New chat with %1.").arg(m_modelName));
    }
    m_plot->setValues(m_throughput);
    updateButtons();
}

void ChatPanel::onModelLoaded(const LoadedModel& model) {
    if (model.path != m_modelPath) return; // an older load, superseded by a newer selection
    qCInfo(lcChat) << "model ready" << model.name << "context" << model.contextSize;
    if (m_state == State::Generating) return;
    setState(State::Ready, tr("%1 ready on %2 (context %3 tokens)")
                               .arg(m_modelName, model.device)
                               .arg(model.contextSize));
}

void ChatPanel::onLoadFailed(const QString& path, const QString& error) {
    if (path != m_modelPath) return;
    qCWarning(lcChat).noquote() << "load failed:" << error;
    m_transcript->addNotice(tr("Could not load the model: %1").arg(error));
    setState(State::NoModel, tr("Could not load %1").arg(m_modelName));
}

void ChatPanel::send() {
    const QString prompt = m_prompt->toPlainText().trimmed();
    if (m_state != State::Ready || prompt.isEmpty()) return;

    if (m_sessionId == 0) {
        const QString system = m_systemPrompt->toPlainText().trimmed();
        auto created = m_store.createChatSession(m_modelId, sessionTitle(prompt).toStdString(),
                                                 system.toStdString());
        if (!created) {
            m_transcript->addNotice(tr("Could not start a chat session: %1")
                                        .arg(fromStd(created.status().toString())));
            return;
        }
        reloadSessions(*created);
    }
    m_pendingPrompt = prompt;
    m_pendingSampling = samplingSettings();
    m_pendingSessionId = m_sessionId;
    m_pendingModelId = m_modelId;

    GenerationRequest request;
    const QString system = m_systemPrompts.value(m_sessionId);
    if (!system.isEmpty()) request.messages.append({QStringLiteral("system"), system});
    request.messages.append(m_history);
    request.messages.append({QStringLiteral("user"), prompt});
    request.sampling = m_pendingSampling;

    m_prompt->clear();
    m_transcript->addMessage(QStringLiteral("user"), prompt);
    m_transcript->beginReply();
    setState(State::Generating, tr("Generating..."));
    qCInfo(lcChat) << "send: session" << m_sessionId << "turns" << request.messages.size()
                   << "seed" << request.sampling.seed;
    emit generateRequested(request);
}

void ChatPanel::sendPrompt(const QString& text) {
    m_prompt->setPlainText(text);
    send();
}

void ChatPanel::stop() {
    if (m_state != State::Generating) return;
    m_worker.requestStop();
    emit stateChanged(tr("Stopping..."));
}

void ChatPanel::onToken(const QString& text) {
    if (m_state == State::Generating && m_pendingSessionId == m_sessionId)
        m_transcript->appendStreamText(text);
}

void ChatPanel::onFinished(const GenerationResult& result) {
    if (m_state != State::Generating) return;
    recordTurn(result);
    const QString stats = formatGenerationStats(result.decodeTokPerSec, result.ttftMs,
                                                result.generatedTokens, result.stopReason) +
                          tr(" \u00b7 seed %1").arg(m_pendingSampling.seed);
    if (m_pendingSessionId == m_sessionId) {
        m_transcript->finishReply(stats);
        if (result.droppedMessages > 0)
            m_transcript->addNotice(
                tr("%n earlier message(s) did not fit the context and were left out.", nullptr,
                   result.droppedMessages));
        m_history.append({QStringLiteral("user"), m_pendingPrompt});
        m_history.append({QStringLiteral("assistant"), result.text});
        m_throughput.append(result.decodeTokPerSec);
        m_plot->setValues(m_throughput);
    }
    if (m_pendingModelId != m_modelId) setState(State::Loading, tr("Loading %1...").arg(m_modelName));
    else setState(State::Ready, tr("Done: %1").arg(stats));
}

void ChatPanel::onFailed(const QString& error) {
    if (m_state != State::Generating) return;
    qCWarning(lcChat).noquote() << "generation failed:" << error;
    if (m_pendingSessionId == m_sessionId) m_transcript->failReply(error);
    if (m_pendingModelId != m_modelId) setState(State::Loading, tr("Loading %1...").arg(m_modelName));
    else setState(State::Ready, tr("Generation failed: %1").arg(error));
}

void ChatPanel::recordTurn(const GenerationResult& result) {
    moe::projects::MessageRecord user;
    user.sessionId = m_pendingSessionId;
    user.role = "user";
    user.content = m_pendingPrompt.toStdString();
    user.samplingJson = samplingJson(m_pendingSampling);
    user.seed = m_pendingSampling.seed;
    user.promptTokens = result.promptTokens;
    user.device = result.device.toStdString();

    moe::projects::MessageRecord reply = user;
    reply.role = "assistant";
    reply.content = result.text.toStdString();
    reply.generatedTokens = result.generatedTokens;
    reply.ttftMs = result.ttftMs;
    reply.tokensPerSecond = result.decodeTokPerSec;
    reply.stopReason = result.stopReason.toStdString();

    for (const moe::projects::MessageRecord* row : {&user, &reply}) {
        auto id = m_store.addMessage(*row);
        if (!id) {
            const QString error = fromStd(id.status().toString());
            qCWarning(lcChat).noquote() << "could not record the turn:" << error;
            m_transcript->addNotice(tr("This turn was not recorded: %1").arg(error));
            return;
        }
    }
    emit turnRecorded(m_pendingSessionId);
}

} // namespace moe::ui
