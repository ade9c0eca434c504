// Chat panel end to end, offscreen: a project in a temp dir, a tiny random Mixtral-style model
// added through the models panel (probed on its worker thread), a prompt typed and sent with the
// Send button, streamed text and stats in the transcript, and the turn's rows in the project store
// (sampling JSON, seed, stats, device). Stop during a long reply ends it "cancelled" and records
// it; a new window on the same project shows the history again.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "panels/chat-panel.h"
#include "panels/models-panel.h"
#include "shell/main-window.h"
#include "widgets/transcript-view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>

using moe::projects::MessageRecord;
using moe::projects::ProjectStore;
using moe::ui::ChatPanel;
using moe::ui::MainWindow;
using moe::ui::ModelsPanel;

class TestChatPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void sendStreamsAndRecordsTurn();
    void stopCancelsAndRecords();
    void reopenedWindowReloadsHistory();
    void badModelFileReportsError();

private:
    // A window over a new project in m_dir with the model added and loaded.
    std::unique_ptr<MainWindow> openWindow(const QString& projectDir);
    void addModelAndWait(MainWindow& window, const QString& modelPath);
    void typeAndSend(MainWindow& window, const QString& prompt);
    std::vector<MessageRecord> recordedMessages(const QString& projectDir);

    QTemporaryDir m_dir;
    QString m_modelPath;      // tiny: thousands of tokens per second, for quick turns
    QString m_slowModelPath;  // small: slow enough that Stop lands mid-reply
};

void TestChatPanel::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_modelPath = m_dir.filePath(QStringLiteral("tiny.gguf"));
    moe::RandomModelOptions options;
    options.arch = "mixtral";
    options.preset = "tiny";
    options.seed = 1;
    moe::Status status = moe::writeRandomModel(options, m_modelPath.toStdString());
    QVERIFY2(status.isOk(), status.toString().c_str());
    m_slowModelPath = m_dir.filePath(QStringLiteral("small.gguf"));
    options.preset = "small";
    status = moe::writeRandomModel(options, m_slowModelPath.toStdString());
    QVERIFY2(status.isOk(), status.toString().c_str());
}

std::unique_ptr<MainWindow> TestChatPanel::openWindow(const QString& projectDir) {
    auto store = MainWindow::openOrCreateProject(projectDir);
    if (!store) qFatal("cannot open project %s: %s", qPrintable(projectDir),
                       store.status().toString().c_str());
    auto window = std::make_unique<MainWindow>(std::move(store).value());
    window->show();
    return window;
}

void TestChatPanel::addModelAndWait(MainWindow& window, const QString& modelPath) {
    ModelsPanel* models = window.findChild<ModelsPanel*>(QStringLiteral("modelsPanel"));
    QVERIFY(models);
    QSignalSpy added(models, &ModelsPanel::modelAdded);
    models->addModelFile(modelPath);
    QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 30000);
    QVERIFY(models->currentModelId() != 0);
    ChatPanel* chat = window.findChild<ChatPanel*>(QStringLiteral("chatPanel"));
    QVERIFY(chat);
    QCOMPARE(chat->modelId(), models->currentModelId());
    QTRY_VERIFY_WITH_TIMEOUT(chat->state() == ChatPanel::State::Ready, 30000);
}

void TestChatPanel::typeAndSend(MainWindow& window, const QString& prompt) {
    auto* edit = window.findChild<QPlainTextEdit*>(QStringLiteral("promptEdit"));
    auto* send = window.findChild<QPushButton*>(QStringLiteral("sendButton"));
    QVERIFY(edit && send);
    edit->setFocus();
    QTest::keyClicks(edit, prompt);
    QCOMPARE(edit->toPlainText(), prompt);
    QVERIFY(send->isEnabled());
    QTest::mouseClick(send, Qt::LeftButton);
}

std::vector<MessageRecord> TestChatPanel::recordedMessages(const QString& projectDir) {
    auto store = ProjectStore::open(projectDir.toStdString());
    if (!store) return {};
    auto sessions = (*store)->chatSessions();
    if (!sessions || sessions->empty()) return {};
    auto messages = (*store)->messages(sessions->back().id);
    return messages ? std::move(messages).value() : std::vector<MessageRecord>{};
}

void TestChatPanel::sendStreamsAndRecordsTurn() {
    const QString projectDir = m_dir.filePath(QStringLiteral("send-proj"));
    auto window = openWindow(projectDir);
    addModelAndWait(*window, m_modelPath);
    auto* chat = window->findChild<ChatPanel*>(QStringLiteral("chatPanel"));
    auto* transcript = window->findChild<moe::ui::TranscriptView*>(QStringLiteral("transcript"));
    QVERIFY(transcript);

    window->findChild<QDoubleSpinBox*>(QStringLiteral("temperatureSpin"))->setValue(0.9);
    window->findChild<QDoubleSpinBox*>(QStringLiteral("topPSpin"))->setValue(0.9);
    window->findChild<QSpinBox*>(QStringLiteral("topKSpin"))->setValue(20);
    window->findChild<QSpinBox*>(QStringLiteral("maxTokensSpin"))->setValue(24);
    window->findChild<QCheckBox*>(QStringLiteral("randomSeedCheck"))->setChecked(false);
    window->findChild<QSpinBox*>(QStringLiteral("seedSpin"))->setValue(1234);

    const QString system = QStringLiteral("You are a terse assistant.");
    window->findChild<QPlainTextEdit*>(QStringLiteral("systemPromptEdit"))->setPlainText(system);

    QSignalSpy recorded(chat, &ChatPanel::turnRecorded);
    const QString prompt = QStringLiteral("Hello experts");
    typeAndSend(*window, prompt);
    QCOMPARE(chat->state(), ChatPanel::State::Generating);
    QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 1, 60000);
    QCOMPARE(chat->state(), ChatPanel::State::Ready);

    const std::vector<MessageRecord> rows = recordedMessages(projectDir);
    QCOMPARE(rows.size(), size_t(2));
    {
        auto store = ProjectStore::open(projectDir.toStdString());
        QVERIFY(store);
        auto sessions = (*store)->chatSessions();
        QVERIFY(sessions && sessions->size() == 1);
        QCOMPARE(QString::fromStdString(sessions->front().systemPrompt), system);
        QCOMPARE(QString::fromStdString(sessions->front().title), prompt);
    }
    const MessageRecord& user = rows[0];
    const MessageRecord& reply = rows[1];
    QCOMPARE(QString::fromStdString(user.role), QStringLiteral("user"));
    QCOMPARE(QString::fromStdString(user.content), prompt);
    QCOMPARE(QString::fromStdString(reply.role), QStringLiteral("assistant"));
    for (const MessageRecord* row : {&user, &reply}) {
        const QJsonObject sampling =
            QJsonDocument::fromJson(QByteArray::fromStdString(row->samplingJson)).object();
        QCOMPARE(sampling.value(QStringLiteral("temperature")).toDouble(), 0.9);
        QCOMPARE(sampling.value(QStringLiteral("top_p")).toDouble(), 0.9);
        QCOMPARE(sampling.value(QStringLiteral("top_k")).toInt(), 20);
        QCOMPARE(sampling.value(QStringLiteral("max_tokens")).toInt(), 24);
        QCOMPARE(row->seed, quint64(1234));
        QVERIFY(!row->device.empty());
    }
    QVERIFY(reply.promptTokens > 0);
    QVERIFY(reply.generatedTokens > 0 && reply.generatedTokens <= 24);
    QVERIFY(reply.ttftMs > 0);
    QVERIFY(!reply.stopReason.empty());

    // The streamed text and the stats are in the transcript.
    const QString shown = transcript->toPlainText();
    QVERIFY2(shown.contains(system), qPrintable(shown));
    QVERIFY2(shown.contains(prompt), qPrintable(shown));
    QVERIFY2(shown.contains(QString::fromStdString(reply.content).trimmed()), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("tok/s")), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("TTFT")), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("%1 tokens").arg(reply.generatedTokens)), qPrintable(shown));
}

void TestChatPanel::stopCancelsAndRecords() {
    const QString projectDir = m_dir.filePath(QStringLiteral("stop-proj"));
    auto window = openWindow(projectDir);
    addModelAndWait(*window, m_slowModelPath);
    auto* chat = window->findChild<ChatPanel*>(QStringLiteral("chatPanel"));
    auto* transcript = window->findChild<moe::ui::TranscriptView*>(QStringLiteral("transcript"));
    auto* stop = window->findChild<QPushButton*>(QStringLiteral("stopButton"));
    QVERIFY(transcript && stop);
    // A large budget keeps the reply going until Stop.
    window->findChild<QDoubleSpinBox*>(QStringLiteral("temperatureSpin"))->setValue(1.0);
    window->findChild<QSpinBox*>(QStringLiteral("maxTokensSpin"))->setValue(100000);
    // A random model may pick its end-of-turn token at any step: keep going until Stop.
    window->findChild<QCheckBox*>(QStringLiteral("ignoreEosCheck"))->setChecked(true);

    QSignalSpy recorded(chat, &ChatPanel::turnRecorded);
    const int before = transcript->toPlainText().size();
    // Press Stop as soon as some streamed text is on screen, while the reply is still running.
    bool stillGenerating = false;
    bool pressed = false;
    connect(transcript, &QTextEdit::textChanged, this, [&] {
        if (pressed || transcript->toPlainText().size() < before + 40) return;
        pressed = true;
        QTimer::singleShot(0, this, [&] {
            stillGenerating = chat->state() == ChatPanel::State::Generating;
            QTest::mouseClick(stop, Qt::LeftButton);
        });
    });
    typeAndSend(*window, QStringLiteral("Tell me a long story"));
    QVERIFY(stop->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(pressed, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 1, 30000);
    QVERIFY(stillGenerating);
    QCOMPARE(chat->state(), ChatPanel::State::Ready);
    QVERIFY(!stop->isEnabled());

    const std::vector<MessageRecord> rows = recordedMessages(projectDir);
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(QString::fromStdString(rows[1].stopReason), QStringLiteral("cancelled"));
    QVERIFY(rows[1].generatedTokens > 0);
    QVERIFY(rows[1].generatedTokens < 4000); // the small preset's context is 4096
    QVERIFY(transcript->toPlainText().contains(QStringLiteral("cancelled")));
}

void TestChatPanel::reopenedWindowReloadsHistory() {
    const QString projectDir = m_dir.filePath(QStringLiteral("reopen-proj"));
    QString firstReply;
    {
        auto window = openWindow(projectDir);
        addModelAndWait(*window, m_modelPath);
        auto* chat = window->findChild<ChatPanel*>(QStringLiteral("chatPanel"));
        window->findChild<QSpinBox*>(QStringLiteral("maxTokensSpin"))->setValue(12);
        QSignalSpy recorded(chat, &ChatPanel::turnRecorded);
        typeAndSend(*window, QStringLiteral("First question"));
        QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 1, 60000);
        typeAndSend(*window, QStringLiteral("Second question"));
        QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 2, 60000);
    }
    const std::vector<MessageRecord> rows = recordedMessages(projectDir);
    QCOMPARE(rows.size(), size_t(4));

    auto window = openWindow(projectDir);
    auto* chat = window->findChild<ChatPanel*>(QStringLiteral("chatPanel"));
    auto* transcript = window->findChild<moe::ui::TranscriptView*>(QStringLiteral("transcript"));
    QVERIFY(chat->modelId() != 0);
    QCOMPARE(chat->sessionId(), rows[0].sessionId);
    const QString shown = transcript->toPlainText();
    QVERIFY2(shown.contains(QStringLiteral("First question")), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("Second question")), qPrintable(shown));
    QVERIFY2(shown.contains(QStringLiteral("tok/s")), qPrintable(shown));
    auto* sessions = window->findChild<QComboBox*>(QStringLiteral("sessionCombo"));
    QCOMPARE(sessions->currentText(), QStringLiteral("First question"));
    QTRY_VERIFY_WITH_TIMEOUT(chat->state() == ChatPanel::State::Ready, 30000);

    // A third turn in the reloaded session continues the same conversation.
    QSignalSpy recorded(chat, &ChatPanel::turnRecorded);
    typeAndSend(*window, QStringLiteral("Third question"));
    QTRY_COMPARE_WITH_TIMEOUT(recorded.count(), 1, 60000);
    const std::vector<MessageRecord> after = recordedMessages(projectDir);
    QCOMPARE(after.size(), size_t(6));
    QVERIFY(after[4].sessionId == rows[0].sessionId);
    QVERIFY(after[5].promptTokens > rows[3].promptTokens);
}

void TestChatPanel::badModelFileReportsError() {
    const QString projectDir = m_dir.filePath(QStringLiteral("bad-proj"));
    const QString bad = m_dir.filePath(QStringLiteral("not-a-model.gguf"));
    {
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("this is not a GGUF file");
    }
    auto window = openWindow(projectDir);
    auto* models = window->findChild<ModelsPanel*>(QStringLiteral("modelsPanel"));
    QSignalSpy failed(models, &ModelsPanel::addFailed);
    models->addModelFile(bad);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
    QVERIFY(failed.at(0).at(0).toString().contains(QStringLiteral("not-a-model.gguf")));
    QCOMPARE(models->currentModelId(), qint64(0));
    QVERIFY(window->findChild<QWidget*>(QStringLiteral("modelErrorBox")));
    auto store = ProjectStore::open(projectDir.toStdString());
    QVERIFY(store);
    QVERIFY((*store)->models()->empty());
}

QTEST_MAIN(TestChatPanel)
#include "test-chat-panel.moc"
