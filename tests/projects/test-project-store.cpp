// ProjectStore entity tests: every record survives a close and reopen field for field; models
// deduplicate by (path, hash); invalid input and missing ids fail with messages naming the field
// or id; non-project folders and existing projects fail clearly; a second store on the same
// folder (the GUI's reader beside a worker's writer) sees committed writes.
#include "moe-projects/project-store.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <limits>

using namespace moe::projects;

namespace {

MessageRecord makeMessage(int64_t sessionId, std::string role, std::string content) {
    MessageRecord message; // (designated initializers that skip fields warn on GCC 12)
    message.sessionId = sessionId;
    message.role = std::move(role);
    message.content = std::move(content);
    return message;
}

bool isTimestamp(const std::string& text) {
    static const QRegularExpression kIso(
        QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"));
    return kIso.match(QString::fromStdString(text)).hasMatch();
}

ModelRecord sampleModel(const std::string& path, const std::string& hash) {
    ModelRecord model;
    model.path = path;
    model.name = "Tiny MoE";
    model.contentHash = hash;
    model.format = "gguf";
    model.architecture = "qwen2moe";
    model.family = "gqa-moe";
    model.fileBytes = 123456789012;
    model.parameterCount = 14300000000;
    return model;
}

} // namespace

class TestProjectStore : public QObject {
    Q_OBJECT

private slots:
    void roundTripsEveryEntity();
    void addModelDeduplicates();
    void sessionsFilterByModel();
    void rejectsInvalidInput_data();
    void rejectsInvalidInput();
    void runStateMachine();
    void createRefusesExistingProject();
    void openRefusesNonProjectFolder();
    void openRefusesMissingFolder();
    void openRefusesGarbageFile();
    void readerSeesWriterCommits();
};

void TestProjectStore::roundTripsEveryEntity() {
    QTemporaryDir tmp;
    const std::string dir = tmp.filePath(QStringLiteral("proj")).toStdString();
    int64_t modelId = 0, sessionId = 0, runId = 0, bareRunId = 0;
    MessageRecord assistant =
        makeMessage(0, "assistant", "Bonjour \xE2\x9C\x93 \"quoted\"\nline two");
    assistant.samplingJson = R"({"temperature":0.7,"top_k":40,"top_p":0.9,"max_tokens":64})";
    assistant.seed = std::numeric_limits<uint64_t>::max() - 5;
    assistant.promptTokens = 17;
    assistant.generatedTokens = 64;
    assistant.ttftMs = 12.5;
    assistant.tokensPerSecond = 87.25;
    assistant.stopReason = "max_tokens";
    assistant.device = "cuda:0 NVIDIA H100";
    {
        auto created = ProjectStore::create(dir, "Round trip");
        QVERIFY2(created.isOk(), created.status().toString().c_str());
        ProjectStore& store = **created;
        QCOMPARE(store.dir(), dir);
        QCOMPARE(store.name(), std::string("Round trip"));

        auto id = store.addModel(sampleModel("/models/tiny.gguf", "fp1:abc"));
        QVERIFY2(id.isOk(), id.status().toString().c_str());
        modelId = *id;
        auto session = store.createChatSession(modelId, "First chat", "You are terse.");
        QVERIFY2(session.isOk(), session.status().toString().c_str());
        sessionId = *session;
        QVERIFY(store.addMessage(makeMessage(sessionId, "system", "You are terse.")).isOk());
        QVERIFY(store.addMessage(makeMessage(sessionId, "user", "Hi")).isOk());
        assistant.sessionId = sessionId;
        auto msg = store.addMessage(assistant);
        QVERIFY2(msg.isOk(), msg.status().toString().c_str());
        assistant.id = *msg;

        auto run = store.beginRun("bench", R"({"suite":"smoke"})", modelId);
        QVERIFY2(run.isOk(), run.status().toString().c_str());
        runId = *run;
        QVERIFY(store.finishRun(runId, "completed", R"({"tok_s":91.5})").isOk());
        auto bare = store.beginRun("generate", "");
        QVERIFY2(bare.isOk(), bare.status().toString().c_str());
        bareRunId = *bare;
    }

    auto reopened = ProjectStore::open(dir);
    QVERIFY2(reopened.isOk(), reopened.status().toString().c_str());
    ProjectStore& store = **reopened;
    QCOMPARE(store.name(), std::string("Round trip"));
    QCOMPARE(store.schemaVersion(), ProjectStore::latestSchemaVersion());

    auto models = store.models();
    QVERIFY(models.isOk());
    QCOMPARE(models->size(), size_t(1));
    const ModelRecord expected = sampleModel("/models/tiny.gguf", "fp1:abc");
    const ModelRecord& m = models->front();
    QCOMPARE(m.id, modelId);
    QCOMPARE(m.path, expected.path);
    QCOMPARE(m.name, expected.name);
    QCOMPARE(m.contentHash, expected.contentHash);
    QCOMPARE(m.format, expected.format);
    QCOMPARE(m.architecture, expected.architecture);
    QCOMPARE(m.family, expected.family);
    QCOMPARE(m.fileBytes, expected.fileBytes);
    QCOMPARE(m.parameterCount, expected.parameterCount);
    QVERIFY2(isTimestamp(m.addedAt), m.addedAt.c_str());
    auto single = store.model(modelId);
    QVERIFY(single.isOk());
    QCOMPARE(single->path, m.path);

    auto sessions = store.chatSessions();
    QVERIFY(sessions.isOk());
    QCOMPARE(sessions->size(), size_t(1));
    QCOMPARE(sessions->front().id, sessionId);
    QCOMPARE(sessions->front().modelId, modelId);
    QCOMPARE(sessions->front().title, std::string("First chat"));
    QCOMPARE(sessions->front().systemPrompt, std::string("You are terse."));
    QVERIFY(isTimestamp(sessions->front().createdAt));

    auto messages = store.messages(sessionId);
    QVERIFY(messages.isOk());
    QCOMPARE(messages->size(), size_t(3));
    QCOMPARE((*messages)[0].role, std::string("system"));
    QCOMPARE((*messages)[1].role, std::string("user"));
    QCOMPARE((*messages)[1].content, std::string("Hi"));
    const MessageRecord& a = (*messages)[2];
    QCOMPARE(a.id, assistant.id);
    QCOMPARE(a.sessionId, sessionId);
    QCOMPARE(a.role, assistant.role);
    QCOMPARE(a.content, assistant.content);
    QCOMPARE(a.samplingJson, assistant.samplingJson);
    QCOMPARE(a.seed, assistant.seed);
    QCOMPARE(a.promptTokens, assistant.promptTokens);
    QCOMPARE(a.generatedTokens, assistant.generatedTokens);
    QCOMPARE(a.ttftMs, assistant.ttftMs);
    QCOMPARE(a.tokensPerSecond, assistant.tokensPerSecond);
    QCOMPARE(a.stopReason, assistant.stopReason);
    QCOMPARE(a.device, assistant.device);
    QVERIFY(isTimestamp(a.createdAt));
    auto count = store.messageCount(sessionId);
    QVERIFY(count.isOk());
    QCOMPARE(*count, int64_t(3));

    auto runs = store.runs();
    QVERIFY(runs.isOk());
    QCOMPARE(runs->size(), size_t(2));
    // Newest first.
    QCOMPARE((*runs)[0].id, bareRunId);
    QCOMPARE((*runs)[0].kind, std::string("generate"));
    QCOMPARE((*runs)[0].status, std::string("running"));
    QVERIFY(!(*runs)[0].modelId.has_value());
    QVERIFY((*runs)[0].finishedAt.empty());
    const RunRecord& r = (*runs)[1];
    QCOMPARE(r.id, runId);
    QCOMPARE(r.kind, std::string("bench"));
    QCOMPARE(r.status, std::string("completed"));
    QCOMPARE(r.modelId.value_or(-1), modelId);
    QCOMPARE(r.configJson, std::string(R"({"suite":"smoke"})"));
    QCOMPARE(r.resultJson, std::string(R"({"tok_s":91.5})"));
    QVERIFY(isTimestamp(r.startedAt));
    QVERIFY(isTimestamp(r.finishedAt));
    QVERIFY(r.finishedAt >= r.startedAt);

    QVERIFY2(store.checkIntegrity().isOk(), store.checkIntegrity().toString().c_str());
}

void TestProjectStore::addModelDeduplicates() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "dedupe");
    QVERIFY(store.isOk());
    auto first = (*store)->addModel(sampleModel("/m/a.gguf", "fp1:1"));
    auto again = (*store)->addModel(sampleModel("/m/a.gguf", "fp1:1"));
    auto changed = (*store)->addModel(sampleModel("/m/a.gguf", "fp1:2"));
    auto other = (*store)->addModel(sampleModel("/m/b.gguf", "fp1:1"));
    QVERIFY(first.isOk() && again.isOk() && changed.isOk() && other.isOk());
    QCOMPARE(*again, *first);
    QVERIFY(*changed != *first);
    QVERIFY(*other != *first && *other != *changed);
    QCOMPARE((*store)->models()->size(), size_t(3));
}

void TestProjectStore::sessionsFilterByModel() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "filter");
    QVERIFY(store.isOk());
    const int64_t a = *(*store)->addModel(sampleModel("/m/a", "fp1:a"));
    const int64_t b = *(*store)->addModel(sampleModel("/m/b", "fp1:b"));
    QVERIFY((*store)->createChatSession(a, "a1").isOk());
    QVERIFY((*store)->createChatSession(b, "b1").isOk());
    QVERIFY((*store)->createChatSession(a, "a2").isOk());
    QCOMPARE((*store)->chatSessions()->size(), size_t(3));
    auto onlyA = (*store)->chatSessions(a);
    QVERIFY(onlyA.isOk());
    QCOMPARE(onlyA->size(), size_t(2));
    QCOMPARE((*onlyA)[0].title, std::string("a1"));
    QCOMPARE((*onlyA)[1].title, std::string("a2"));
    QCOMPARE((*store)->chatSessions(b + 100)->size(), size_t(0));
}

void TestProjectStore::rejectsInvalidInput_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("mentions");
    using moe::StatusCode;
    QTest::newRow("bad role") << "badRole" << int(StatusCode::InvalidArgument) << "role 'robot'";
    QTest::newRow("bad sampling json")
        << "badSamplingJson" << int(StatusCode::InvalidArgument) << "sampling_json";
    QTest::newRow("missing session")
        << "missingSession" << int(StatusCode::NotFound) << "chat session with id 999";
    QTest::newRow("session of missing model")
        << "missingModel" << int(StatusCode::NotFound) << "model with id 999";
    QTest::newRow("run of missing model")
        << "runMissingModel" << int(StatusCode::NotFound) << "model with id 999";
    QTest::newRow("bad config json")
        << "badConfigJson" << int(StatusCode::InvalidArgument) << "config_json";
    QTest::newRow("model without hash")
        << "modelNoHash" << int(StatusCode::InvalidArgument) << "hash";
    QTest::newRow("model without path")
        << "modelNoPath" << int(StatusCode::InvalidArgument) << "path";
    QTest::newRow("unknown model id")
        << "readMissingModel" << int(StatusCode::NotFound) << "model with id 999";
}

void TestProjectStore::rejectsInvalidInput() {
    QFETCH(QString, action);
    QFETCH(int, code);
    QFETCH(QString, mentions);
    QTemporaryDir tmp;
    auto created = ProjectStore::create(tmp.path().toStdString(), "invalid");
    QVERIFY(created.isOk());
    ProjectStore& store = **created;
    const int64_t modelId = *store.addModel(sampleModel("/m/x", "fp1:x"));
    const int64_t sessionId = *store.createChatSession(modelId, "s");

    moe::Status status;
    if (action == "badRole") {
        status = store.addMessage(makeMessage(sessionId, "robot", "x")).status();
    } else if (action == "badSamplingJson") {
        MessageRecord message = makeMessage(sessionId, "user", "x");
        message.samplingJson = "{temperature:";
        status = store.addMessage(message).status();
    } else if (action == "missingSession") {
        status = store.addMessage(makeMessage(999, "user", "x")).status();
    } else if (action == "missingModel") {
        status = store.createChatSession(999, "t").status();
    } else if (action == "runMissingModel") {
        status = store.beginRun("bench", "{}", 999).status();
    } else if (action == "badConfigJson") {
        status = store.beginRun("bench", "[1,").status();
    } else if (action == "modelNoHash") {
        status = store.addModel(sampleModel("/m/y", "")).status();
    } else if (action == "modelNoPath") {
        status = store.addModel(sampleModel("", "fp1:y")).status();
    } else if (action == "readMissingModel") {
        status = store.model(999).status();
    } else {
        QFAIL("unknown action");
    }
    QVERIFY(!status.isOk());
    QCOMPARE(int(status.code()), code);
    QVERIFY2(QString::fromStdString(status.message()).contains(mentions), status.message().c_str());
    // Nothing half-written: the rejected calls left the counts as they were.
    QCOMPARE(*store.messageCount(sessionId), int64_t(0));
    QCOMPARE(store.chatSessions()->size(), size_t(1));
    QCOMPARE(store.runs()->size(), size_t(0));
    QCOMPARE(store.models()->size(), size_t(1));
    QVERIFY(store.checkIntegrity().isOk());
}

void TestProjectStore::runStateMachine() {
    QTemporaryDir tmp;
    auto created = ProjectStore::create(tmp.path().toStdString(), "runs");
    QVERIFY(created.isOk());
    ProjectStore& store = **created;
    const int64_t run = *store.beginRun("finetune", "{}");
    moe::Status notFinal = store.finishRun(run, "running", "");
    QCOMPARE(notFinal.code(), moe::StatusCode::InvalidArgument);
    QVERIFY(store.finishRun(run, "failed", R"({"error":"out of memory"})").isOk());
    moe::Status twice = store.finishRun(run, "completed", "{}");
    QCOMPARE(twice.code(), moe::StatusCode::InvalidArgument);
    QVERIFY2(twice.message().find("already finished as 'failed'") != std::string::npos,
             twice.message().c_str());
    QCOMPARE(store.finishRun(12345, "completed", "{}").code(), moe::StatusCode::NotFound);
    QCOMPARE(store.finishRun(run, "completed", "{oops").code(), moe::StatusCode::InvalidArgument);
    QCOMPARE(store.runs()->front().status, std::string("failed"));
}

void TestProjectStore::createRefusesExistingProject() {
    QTemporaryDir tmp;
    QVERIFY(ProjectStore::create(tmp.path().toStdString(), "one").isOk());
    auto second = ProjectStore::create(tmp.path().toStdString(), "two");
    QVERIFY(!second.isOk());
    QVERIFY2(QString::fromStdString(second.status().message()).contains(tmp.path()),
             second.status().message().c_str());
    QVERIFY(second.status().message().find("already") != std::string::npos);
    auto reopened = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(reopened.isOk());
    QCOMPARE((*reopened)->name(), std::string("one"));
}

void TestProjectStore::openRefusesNonProjectFolder() {
    QTemporaryDir tmp;
    QFile other(tmp.filePath(QStringLiteral("notes.txt")));
    QVERIFY(other.open(QIODevice::WriteOnly));
    other.close();
    QVERIFY(!ProjectStore::exists(tmp.path().toStdString()));
    auto store = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(!store.isOk());
    QCOMPARE(store.status().code(), moe::StatusCode::NotFound);
    const QString message = QString::fromStdString(store.status().message());
    QVERIFY2(message.contains(tmp.path()) &&
                 message.contains(QStringLiteral("not a MoE Studio project")),
             qPrintable(message));
    // Opening did not turn the folder into a project.
    QVERIFY(!QFile::exists(tmp.filePath(ProjectStore::kDatabaseFile)));
}

void TestProjectStore::openRefusesMissingFolder() {
    QTemporaryDir tmp;
    const QString missing = tmp.filePath(QStringLiteral("nope"));
    auto store = ProjectStore::open(missing.toStdString());
    QVERIFY(!store.isOk());
    QCOMPARE(store.status().code(), moe::StatusCode::NotFound);
    QVERIFY2(QString::fromStdString(store.status().message()).contains(missing),
             store.status().message().c_str());
    QVERIFY(!QDir(missing).exists());
}

void TestProjectStore::openRefusesGarbageFile() {
    QTemporaryDir tmp;
    QFile garbage(tmp.filePath(ProjectStore::kDatabaseFile));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(4096, 'x'));
    garbage.close();
    auto store = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(!store.isOk());
    QCOMPARE(store.status().code(), moe::StatusCode::CorruptFile);
    // The sqlite error names the file, the operation and sqlite's own words.
    const QString message = QString::fromStdString(store.status().message());
    QVERIFY2(message.contains(garbage.fileName()), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("read schema version")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("not a database")), qPrintable(message));
}

void TestProjectStore::readerSeesWriterCommits() {
    QTemporaryDir tmp;
    auto writer = ProjectStore::create(tmp.path().toStdString(), "two stores");
    QVERIFY(writer.isOk());
    auto reader = ProjectStore::open(tmp.path().toStdString());
    QVERIFY2(reader.isOk(), reader.status().toString().c_str());
    const int64_t model = *(*writer)->addModel(sampleModel("/m/a", "fp1:a"));
    const int64_t session = *(*writer)->createChatSession(model, "shared");
    for (int i = 0; i < 5; ++i)
        QVERIFY((*writer)->addMessage(makeMessage(session, "user", "m")).isOk());
    QCOMPARE(*(*reader)->messageCount(session), int64_t(5));
    QCOMPARE((*reader)->models()->size(), size_t(1));
}

QTEST_GUILESS_MAIN(TestProjectStore)
#include "test-project-store.moc"
