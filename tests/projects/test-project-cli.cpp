// `moestudio-cli project init|list|check` run as a process (MOE_CLI_PATH): output a person can
// read (created path and schema version, aligned tables, "ok"), and errors as a
// "moestudio-cli: <message>" line on stderr with exit code 1 (2 for usage errors, per commands.h).
#include "moe-projects/project-store.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace moe::projects;

namespace {

MessageRecord makeMessage(int64_t sessionId, std::string role, std::string content) {
    MessageRecord message; // (designated initializers that skip fields warn on GCC 12)
    message.sessionId = sessionId;
    message.role = std::move(role);
    message.content = std::move(content);
    return message;
}

struct CliResult {
    int exitCode = -1;
    QString out;
    QString err;
};

CliResult runCli(const QStringList& args) {
    QProcess process;
    process.start(QStringLiteral(MOE_CLI_PATH), args);
    CliResult result;
    if (!process.waitForFinished(30000)) {
        result.err = QStringLiteral("did not finish: ") + process.errorString();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

} // namespace

class TestProjectCli : public QObject {
    Q_OBJECT

private slots:
    void initListCheck();
    void listShowsAlignedTables();
    void errors_data();
    void errors();
};

void TestProjectCli::initListCheck() {
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("demo"));
    const CliResult init = runCli({"project", "init", dir, "--name", "Demo project"});
    QVERIFY2(init.exitCode == 0, qPrintable(init.err));
    QVERIFY2(init.out.contains(QDir(dir).filePath(ProjectStore::kDatabaseFile)),
             qPrintable(init.out));
    QVERIFY2(init.out.contains(
                 QStringLiteral("schema version %1").arg(ProjectStore::latestSchemaVersion())),
             qPrintable(init.out));
    QVERIFY(ProjectStore::exists(dir.toStdString()));

    const CliResult list = runCli({"project", "list", dir});
    QVERIFY2(list.exitCode == 0, qPrintable(list.err));
    QVERIFY2(list.out.contains(QStringLiteral("'Demo project'")), qPrintable(list.out));
    QVERIFY2(list.out.contains(QStringLiteral("models (0)")), qPrintable(list.out));
    QVERIFY2(list.out.contains(QStringLiteral("(none)")), qPrintable(list.out));

    const CliResult check = runCli({"project", "check", dir});
    QVERIFY2(check.exitCode == 0, qPrintable(check.err));
    QVERIFY2(check.out.startsWith(QStringLiteral("ok: ")), qPrintable(check.out));
}

void TestProjectCli::listShowsAlignedTables() {
    QTemporaryDir tmp;
    {
        auto store = ProjectStore::create(tmp.path().toStdString(), "tables");
        QVERIFY(store.isOk());
        ModelRecord model;
        model.path = "/models/a.gguf";
        model.name = "A";
        model.contentHash = "fp1:aaaa";
        model.format = "gguf";
        model.fileBytes = 3 << 20;
        model.parameterCount = 1500000;
        const int64_t a = *(*store)->addModel(model);
        model.path = "/models/long-name.gguf";
        model.name = "A much longer model name";
        model.contentHash = "fp1:bbbb";
        model.fileBytes = 0;
        model.parameterCount = 0;
        const int64_t b = *(*store)->addModel(model);
        const int64_t s = *(*store)->createChatSession(b, "Chat about experts");
        QVERIFY((*store)->addMessage(makeMessage(s, "user", "hi")).isOk());
        QVERIFY((*store)->addMessage(makeMessage(s, "assistant", "yo")).isOk());
        const int64_t run = *(*store)->beginRun("bench", "{}", a);
        QVERIFY((*store)->finishRun(run, "completed", "{}").isOk());
    }
    const CliResult list = runCli({"project", "list", tmp.path()});
    QVERIFY2(list.exitCode == 0, qPrintable(list.err));
    const QStringList lines = list.out.split(QLatin1Char('\n'));
    // Header and rows of the model table: the NAME column starts at the same offset on each.
    const auto header = std::find_if(lines.begin(), lines.end(), [](const QString& l) {
        return l.contains(QStringLiteral("NAME"));
    });
    QVERIFY(header != lines.end());
    const qsizetype formatColumn = header->indexOf(QStringLiteral("FORMAT"));
    QVERIFY(formatColumn > 0);
    QCOMPARE((header + 1)->indexOf(QStringLiteral("gguf")), formatColumn);
    QCOMPARE((header + 2)->indexOf(QStringLiteral("gguf")), formatColumn);
    QVERIFY2(list.out.contains(QStringLiteral("3.0 MiB")) &&
                 list.out.contains(QStringLiteral("1.5M")),
             qPrintable(list.out));
    QVERIFY2(list.out.contains(QStringLiteral("chat sessions (1)")), qPrintable(list.out));
    const auto chat = std::find_if(lines.begin(), lines.end(), [](const QString& l) {
        return l.contains(QStringLiteral("Chat about experts"));
    });
    QVERIFY(chat != lines.end());
    QVERIFY2(chat->simplified().startsWith(QStringLiteral("1 2 2 ")), qPrintable(*chat));
    QVERIFY2(list.out.contains(QStringLiteral("completed")), qPrintable(list.out));
}

void TestProjectCli::errors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::addColumn<int>("exitCode");
    QTest::newRow("list non-project")
        << QStringList{"project", "list", "@tmp"} << "not a MoE Studio project" << 1;
    QTest::newRow("check missing folder")
        << QStringList{"project", "check", "@tmp/nope"} << "no such project folder" << 1;
    QTest::newRow("init twice") << QStringList{"project", "init", "@made"} << "already holds" << 1;
    QTest::newRow("no subcommand") << QStringList{"project"} << "missing subcommand" << 2;
    QTest::newRow("unknown subcommand")
        << QStringList{"project", "frobnicate"} << "unknown subcommand" << 2;
    QTest::newRow("unknown option")
        << QStringList{"project", "init", "@tmp/x", "--color"} << "unknown option" << 2;
    QTest::newRow("name without value")
        << QStringList{"project", "init", "@tmp/x", "--name"} << "--name" << 2;
    QTest::newRow("list two folders")
        << QStringList{"project", "list", "@tmp", "@made"} << "expected one DIR" << 2;
}

void TestProjectCli::errors() {
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    QFETCH(int, exitCode);
    QTemporaryDir tmp;
    const QString made = tmp.filePath(QStringLiteral("made"));
    QVERIFY(ProjectStore::create(made.toStdString(), "made").isOk());
    for (QString& arg : args) {
        arg.replace(QStringLiteral("@made"), made);
        arg.replace(QStringLiteral("@tmp"), tmp.path());
    }
    const CliResult result = runCli(args);
    QCOMPARE(result.exitCode, exitCode);
    QVERIFY2(result.err.startsWith(QStringLiteral("moestudio-cli: ")), qPrintable(result.err));
    QVERIFY2(result.err.contains(mentions), qPrintable(result.err));
    QVERIFY(result.out.isEmpty());
    QVERIFY(!QDir(tmp.filePath(QStringLiteral("x"))).exists());
}

QTEST_GUILESS_MAIN(TestProjectCli)
#include "test-project-cli.moc"
