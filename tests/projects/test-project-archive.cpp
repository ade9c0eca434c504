// Export/import tests: a project with a row in every table and artifact files (nested folders,
// binary content, sizes off the 512-byte tar block, an empty file) survives export -> import
// with every table's rows equal (read with plain sqlite3, not through the store) and every file
// byte-identical. Import refuses a non-empty folder, and a truncated or corrupted archive with a
// message naming the archive, leaving neither the target nor a staging folder behind.
#include "moe-projects/project-store.h"

#include <sqlite3.h>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace moe::projects;

namespace {

void writeFile(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Every row of every table as text (quote() of each column), tables by name, rows sorted.
QStringList dumpTables(const QString& database) {
    QStringList out;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(database.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return {QStringLiteral("cannot open ") + database};
    }
    auto query = [&](const QString& sql) {
        QList<QStringList> rows;
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &s, nullptr);
        while (s && sqlite3_step(s) == SQLITE_ROW) {
            QStringList row;
            for (int c = 0; c < sqlite3_column_count(s); ++c)
                row << QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(s, c)));
            rows << row;
        }
        sqlite3_finalize(s);
        return rows;
    };
    const auto tables = query(QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name"));
    for (const auto& t : tables) {
        const QString table = t.front();
        QStringList quoted;
        for (const auto& col :
             query(QStringLiteral("SELECT name FROM pragma_table_info('%1')").arg(table)))
            quoted << QStringLiteral("quote(\"%1\")").arg(col.front());
        QStringList rows;
        for (const auto& row : query(QStringLiteral("SELECT %1 FROM \"%2\"")
                                         .arg(quoted.join(QStringLiteral(", ")), table)))
            rows << row.join(QStringLiteral(" | "));
        rows.sort();
        out << QStringLiteral("%1 (%2 rows)").arg(table).arg(rows.size());
        out << rows;
    }
    sqlite3_close(db);
    return out;
}

// Relative path -> content of every file under the artifact folders.
QMap<QString, QByteArray> artifactFiles(const QString& dir) {
    QMap<QString, QByteArray> files;
    for (const char* folder : {"adapters", "checkpoints", "reports"}) {
        QDirIterator it(QDir(dir).filePath(QString::fromLatin1(folder)), QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            files.insert(QDir(dir).relativeFilePath(path), readFile(path));
        }
    }
    return files;
}

// A project with at least one row in every table of the schema.
bool populate(ProjectStore& s) {
    ModelRecord m;
    m.path = "/models/tiny.gguf";
    m.contentHash = "fp1:tiny";
    m.quantTypes = "F32,Q4_K";
    auto model = s.addModel(m);
    if (!model) return false;
    auto session = s.createChatSession(*model, "chat", "be brief");
    if (!session) return false;
    MessageRecord msg;
    msg.sessionId = *session;
    msg.role = "user";
    msg.content = "hello \xE2\x9C\x93";
    msg.routingJson = R"({"layer0":[1,2]})";
    if (!s.addMessage(msg)) return false;
    DatasetRecord d;
    d.path = "/data/train.jsonl";
    d.contentHash = "fp1:data";
    auto data = s.datasets().add(d);
    if (!data) return false;
    auto run = s.trainingRuns().begin("finetune", R"({"r":8})", *model, *data);
    if (!run) return false;
    std::vector<MetricRow> rows(3);
    for (int i = 0; i < 3; ++i) {
        rows[static_cast<size_t>(i)].step = i * 10;
        rows[static_cast<size_t>(i)].loss = 3.0 - i;
    }
    if (!s.trainingRuns().appendMetrics(*run, rows)) return false;
    if (!s.trainingRuns().addCheckpoint(*run, 20, "checkpoints/run-1/step-20")) return false;
    ArtifactRecord a;
    a.runId = *run;
    a.kind = "adapter";
    a.path = "adapters/run-1";
    if (!s.trainingRuns().addArtifact(a)) return false;
    if (!s.trainingRuns().finish(*run, "completed", R"({"loss":1})")) return false;
    auto base = s.modelVersions().baseVersion(*model);
    if (!base) return false;
    ModelVersionRecord v;
    v.kind = "adapter";
    v.path = "adapters/run-1";
    v.runId = *run;
    auto adapter = s.modelVersions().addDerived(base->id, v);
    if (!adapter) return false;
    auto cmp = s.comparisons().create("cmp", {"a", "b"});
    if (!cmp) return false;
    ComparisonOutput o;
    o.comparisonId = *cmp;
    o.versionId = *adapter;
    o.output = "out";
    if (!s.comparisons().setOutput(o)) return false;
    BenchEnvironment env;
    env.suite = "decode";
    auto bench = s.bench().begin(env, "", *model);
    if (!bench) return false;
    if (!s.bench().addSamples(*bench, "tok_s", std::vector<double>{1.5, 2.5})) return false;
    if (!s.bench().summarize(*bench)) return false;
    EvalResultRecord e;
    e.versionId = *adapter;
    e.datasetId = *data;
    e.eval = "perplexity";
    e.metric = "ppl";
    e.value = 6.5;
    if (!s.evals().add(e)) return false;
    ReportRecord r;
    r.title = "r";
    r.format = "html";
    r.path = "reports/2026/r.html";
    return s.reports().add(r).isOk();
}

} // namespace

class TestProjectArchive : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void roundTripKeepsEveryRowAndFile();
    void importRefusesNonEmptyFolder();
    void importRefusesDamagedArchive_data();
    void importRefusesDamagedArchive();

private:
    QTemporaryDir m_tmp;
    QString m_project;
    QString m_archive;
};

void TestProjectArchive::initTestCase() {
    QVERIFY(m_tmp.isValid());
    m_project = m_tmp.filePath(QStringLiteral("source"));
    m_archive = m_tmp.filePath(QStringLiteral("source.moeproj"));
    auto store = ProjectStore::create(m_project.toStdString(), "Archive test");
    QVERIFY(store.isOk());
    QVERIFY(populate(**store));
    QByteArray binary;
    for (int i = 0; i < 3000; ++i)
        binary.append(static_cast<char>((i * 7 + i / 256) & 0xff)); // every byte value, NULs too
    writeFile(m_project + "/adapters/run-1/adapter_model.safetensors", binary);
    writeFile(m_project + "/adapters/run-1/adapter_config.json", R"({"r":8})");
    writeFile(m_project + "/checkpoints/run-1/step-20/optimizer.bin", binary.left(512));
    writeFile(m_project + "/checkpoints/run-1/step-20/empty", QByteArray());
    writeFile(m_project + "/reports/2026/deep/er/r.html", "<h1>r</h1>\n");
    QDir().mkpath(m_project + "/reports/empty-folder");
    const moe::Status exported = (*store)->exportTo(m_archive.toStdString());
    QVERIFY2(exported.isOk(), exported.toString().c_str());
    QVERIFY(!QFile::exists(m_archive + ".partial"));
}

void TestProjectArchive::roundTripKeepsEveryRowAndFile() {
    const QString target = m_tmp.filePath(QStringLiteral("imported"));
    {
        auto imported = ProjectStore::importFrom(m_archive.toStdString(), target.toStdString());
        QVERIFY2(imported.isOk(), imported.status().toString().c_str());
        QCOMPARE((*imported)->name(), std::string("Archive test"));
        QCOMPARE(QString::fromStdString((*imported)->dir()), target);
        QVERIFY((*imported)->checkIntegrity().isOk());
    }
    const QStringList before = dumpTables(m_project + "/project.sqlite");
    const QStringList after = dumpTables(target + "/project.sqlite");
    // Every table of the schema has rows, so the comparison covers all of them.
    for (const QString& line : before)
        QVERIFY2(!line.endsWith(QStringLiteral("(0 rows)")), qPrintable(line));
    QVERIFY(before.size() > 20);
    QCOMPARE(after, before);
    const auto files = artifactFiles(m_project);
    QCOMPARE(files.size(), 5);
    QCOMPARE(artifactFiles(target), files);
    QVERIFY(QDir(target + "/reports/empty-folder").exists());
    QVERIFY(QDir(target + "/exports").exists());
    QVERIFY(!QDir(m_tmp.filePath(QStringLiteral(".imported.importing"))).exists());
}

void TestProjectArchive::importRefusesNonEmptyFolder() {
    QTemporaryDir parent;
    const QString target = parent.filePath(QStringLiteral("busy"));
    writeFile(target + "/notes.txt", "mine");
    auto imported = ProjectStore::importFrom(m_archive.toStdString(), target.toStdString());
    QVERIFY(!imported.isOk());
    QCOMPARE(imported.status().code(), moe::StatusCode::InvalidArgument);
    QVERIFY2(QString::fromStdString(imported.status().message()).contains(target) &&
                 imported.status().message().find("not empty") != std::string::npos,
             imported.status().message().c_str());
    QCOMPARE(QDir(target).entryList(QDir::NoDotAndDotDot | QDir::AllEntries),
             QStringList{"notes.txt"});
    QCOMPARE(readFile(target + "/notes.txt"), QByteArray("mine"));
    QCOMPARE(QDir(parent.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden),
             QStringList{"busy"});
}

void TestProjectArchive::importRefusesDamagedArchive_data() {
    QTest::addColumn<QString>("damage");
    QTest::newRow("truncated to half") << "half";
    QTest::newRow("truncated inside the first header") << "300";
    QTest::newRow("end-of-archive blocks cut") << "noEnd";
    QTest::newRow("header checksum broken") << "header";
    QTest::newRow("database header garbled") << "database";
    QTest::newRow("not a tar") << "text";
    QTest::newRow("empty file") << "empty";
}

void TestProjectArchive::importRefusesDamagedArchive() {
    QFETCH(QString, damage);
    QByteArray bytes = readFile(m_archive);
    QVERIFY(bytes.size() > 4096);
    if (damage == "half")
        bytes.truncate(bytes.size() / 2);
    else if (damage == "300")
        bytes.truncate(300);
    else if (damage == "noEnd")
        bytes.chop(1024);
    else if (damage == "header")
        bytes[0] = static_cast<char>(bytes[0] ^ 0x20);
    else if (damage == "database") {
        const qsizetype at = bytes.indexOf("SQLite format 3");
        QVERIFY(at > 0);
        for (qsizetype i = at; i < at + 100; ++i)
            bytes[i] = 'x';
    } else if (damage == "text")
        bytes = "just some text\n";
    else if (damage == "empty")
        bytes.clear();
    QTemporaryDir parent;
    const QString archive = parent.filePath(QStringLiteral("damaged.moeproj"));
    writeFile(archive, bytes);
    const QString target = parent.filePath(QStringLiteral("project"));
    auto imported = ProjectStore::importFrom(archive.toStdString(), target.toStdString());
    QVERIFY(!imported.isOk());
    QVERIFY2(QString::fromStdString(imported.status().message()).contains(archive),
             imported.status().message().c_str());
    QVERIFY(!QFileInfo::exists(target));
    QCOMPARE(QDir(parent.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden),
             QStringList{"damaged.moeproj"});
}

QTEST_GUILESS_MAIN(TestProjectArchive)
#include "test-project-archive.moc"
