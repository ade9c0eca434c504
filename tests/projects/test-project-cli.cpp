// `moestudio-cli project init|list|check|info|runs|export|import` and `runs show` run as a
// process (MOE_CLI_PATH): output a person can read (created path and schema version, aligned
// tables, "ok", entity counts, run history and one run in full), and errors as a
// "moestudio-cli: <message>" line on stderr naming the project, archive or run, with exit code 1
// (2 for usage errors, per commands.h).
#include "moe-projects/project-store.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
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
    void infoRunsShowExportImport();
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
        model.name = "Alpha";
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

void TestProjectCli::infoRunsShowExportImport() {
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("proj"));
    int64_t finetune = 0, lastCheckpoint = 0;
    {
        auto store = ProjectStore::create(dir.toStdString(), "CLI runs");
        QVERIFY(store.isOk());
        ModelRecord model;
        model.path = "/models/a.gguf";
        model.contentHash = "fp1:a";
        const int64_t m = *(*store)->addModel(model);
        TrainingRunRepo& runs = (*store)->trainingRuns();
        finetune = *runs.begin("finetune", R"({"method":"lora"})", m);
        std::vector<MetricRow> rows(3);
        for (size_t i = 0; i < rows.size(); ++i) {
            rows[i].step = static_cast<int64_t>(i) * 10;
            rows[i].loss = 3.0 - static_cast<double>(i) * 0.5;
            rows[i].learningRate = 2e-4;
        }
        rows[2].evalLoss = 1.75;
        QVERIFY(runs.appendMetrics(finetune, rows).isOk());
        QVERIFY(runs.addCheckpoint(finetune, 10, "checkpoints/run-1/step-10").isOk());
        lastCheckpoint = *runs.addCheckpoint(finetune, 20, "checkpoints/run-1/step-20");
        QVERIFY(runs.finish(finetune, "completed", R"({"final_loss":2})").isOk());
        BenchEnvironment env;
        env.suite = "decode";
        QVERIFY((*store)->bench().begin(env, "{}").isOk()); // left running
    }
    const CliResult info = runCli({"project", "info", dir});
    QVERIFY2(info.exitCode == 0, qPrintable(info.err));
    QVERIFY2(info.out.startsWith(QStringLiteral("project 'CLI runs'")), qPrintable(info.out));
    QVERIFY2(info.out.contains(QRegularExpression(
                 QStringLiteral("schema version +%1\n").arg(ProjectStore::latestSchemaVersion()))),
             qPrintable(info.out));
    QVERIFY2(info.out.contains(QRegularExpression(QStringLiteral("models +1 \\(1 versions\\)"))),
             qPrintable(info.out));
    QVERIFY2(info.out.contains(QRegularExpression(QStringLiteral("runs +2 \\(1 running\\)"))),
             qPrintable(info.out));

    const CliResult history = runCli({"project", "runs", dir});
    QVERIFY2(history.exitCode == 0, qPrintable(history.err));
    QVERIFY2(history.out.startsWith(QStringLiteral("runs (2)\n")), qPrintable(history.out));
    const QStringList lines = history.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(lines.size() == 4 && lines[1].contains(QStringLiteral("LAST LOSS")));
    QVERIFY2(lines[2].contains(QStringLiteral("bench")) && lines[2].contains("running"),
             qPrintable(history.out)); // newest first
    const QStringList cells = lines[3].simplified().split(QLatin1Char(' '));
    QVERIFY2(cells.size() >= 7, qPrintable(lines[3]));
    QCOMPARE(cells.mid(0, 7), (QStringList{QString::number(finetune), "finetune", "completed", "1",
                                           "20", "2", "1.75"}));
    const CliResult benchOnly = runCli({"project", "runs", dir, "--kind", "bench"});
    QVERIFY2(benchOnly.exitCode == 0 && benchOnly.out.startsWith(QStringLiteral("runs (1)\n")),
             qPrintable(benchOnly.out + benchOnly.err));

    const CliResult show = runCli({"runs", "show", QString::number(finetune), "--project", dir});
    QVERIFY2(show.exitCode == 0, qPrintable(show.err));
    for (const QString& expected :
         {QStringLiteral("run %1 (finetune)\n").arg(finetune),
          QStringLiteral("  status      completed\n"), QStringLiteral("  model       1\n"),
          QStringLiteral("  config      {\"method\":\"lora\"}\n"),
          QStringLiteral("  result      {\"final_loss\":2}\n"), QStringLiteral("  rows        3\n"),
          QStringLiteral("  steps       0 .. 20\n"), QStringLiteral("  last loss   2\n"),
          QStringLiteral("  best eval   1.75\n"), QStringLiteral("  last lr     0.0002\n"),
          QStringLiteral("checkpoints (2)\n"),
          QStringLiteral("  %1  step 20  checkpoints/run-1/step-20  (last)\n")
              .arg(lastCheckpoint)}) {
        QVERIFY2(show.out.contains(expected), qPrintable(expected + "\nnot in\n" + show.out));
    }

    const QString archive = tmp.filePath(QStringLiteral("proj.moeproj"));
    const CliResult exported = runCli({"project", "export", dir, archive});
    QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
    QCOMPARE(exported.out, QStringLiteral("exported project 'CLI runs' to %1\n").arg(archive));
    QVERIFY(QFileInfo(archive).size() > 0);
    const QString copy = tmp.filePath(QStringLiteral("copy"));
    const CliResult imported = runCli({"project", "import", archive, copy});
    QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
    QVERIFY2(imported.out.startsWith(QStringLiteral("imported project 'CLI runs' into %1 (schema "
                                                    "version ")
                                         .arg(copy)),
             qPrintable(imported.out));
    const CliResult copyInfo = runCli({"project", "info", copy});
    QVERIFY2(copyInfo.exitCode == 0, qPrintable(copyInfo.err));
    // The same counts, except that the bench run left running in the source is interrupted in
    // the copy: no process runs it there (import opens read-write and recovers it).
    QCOMPARE(copyInfo.out, QString(info.out).replace(dir, copy).replace(
                               QStringLiteral("(1 running)"), QStringLiteral("(0 running)")));
    // Importing again over the now non-empty folder is refused, naming it.
    const CliResult again = runCli({"project", "import", archive, copy});
    QCOMPARE(again.exitCode, 1);
    QVERIFY2(again.err.contains(copy) && again.err.contains(QStringLiteral("not empty")),
             qPrintable(again.err));
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
    QTest::newRow("info non-project")
        << QStringList{"project", "info", "@tmp"} << "@tmp: not a MoE Studio project" << 1;
    QTest::newRow("runs missing folder")
        << QStringList{"project", "runs", "@tmp/nope"} << "no such project folder" << 1;
    QTest::newRow("runs unknown option")
        << QStringList{"project", "runs", "@made", "--color"} << "unknown option" << 2;
    QTest::newRow("export missing folder")
        << QStringList{"project", "export", "@tmp/nope", "@tmp/x.moeproj"} << "@tmp/nope" << 1;
    QTest::newRow("export without file")
        << QStringList{"project", "export", "@made"} << "expected DIR FILE" << 2;
    QTest::newRow("import missing archive")
        << QStringList{"project", "import", "@tmp/none.moeproj", "@tmp/x"}
        << "@tmp/none.moeproj: cannot read" << 1;
    QTest::newRow("import into a project")
        << QStringList{"project", "import", "@tmp/none.moeproj", "@made"} << "@made: not empty"
        << 1;
    QTest::newRow("runs show missing run")
        << QStringList{"runs", "show", "99", "--project", "@made"}
        << "@made/project.sqlite: no run with id 99" << 1;
    QTest::newRow("runs show non-project")
        << QStringList{"runs", "show", "1", "--project", "@tmp"} << "not a MoE Studio project" << 1;
    QTest::newRow("runs show bad id")
        << QStringList{"runs", "show", "abc", "--project", "@made"} << "got 'abc'" << 2;
    QTest::newRow("runs show without project")
        << QStringList{"runs", "show", "1"} << "missing --project" << 2;
    QTest::newRow("runs without show") << QStringList{"runs", "list"} << "expected 'show'" << 2;
}

void TestProjectCli::errors() {
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    QFETCH(int, exitCode);
    QTemporaryDir tmp;
    const QString made = tmp.filePath(QStringLiteral("made"));
    QVERIFY(ProjectStore::create(made.toStdString(), "made").isOk());
    for (QString* text : [&] {
             QList<QString*> all{&mentions};
             for (QString& arg : args)
                 all << &arg;
             return all;
         }()) {
        text->replace(QStringLiteral("@made"), made);
        text->replace(QStringLiteral("@tmp"), tmp.path());
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
