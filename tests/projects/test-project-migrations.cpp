// Migration tests: a database at every earlier schema version (0 = empty file, 1, ...,
// latest - 1), built with plain sqlite3 by running the shipped projects/schema/NNNN-*.sql files
// in order and filled with rows through the SQL of that version, is opened by the current store.
// The rows must survive with their values, derived data must appear (every v1 model gets a base
// version), the pre-migration backup must exist and still be at the old version, and the
// integrity check must pass. The goldens are the rows this test inserted, not store output.
#include "moe-projects/project-store.h"

#include <sqlite3.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace moe::projects;

namespace {

QString schemaFile(int version) {
    const QStringList files = QDir(QStringLiteral(MOE_PROJECTS_SCHEMA_DIR))
                                  .entryList({QStringLiteral("%1-*.sql").arg(version, 4, 10,
                                                                             QLatin1Char('0'))});
    return files.size() == 1 ? QDir(QStringLiteral(MOE_PROJECTS_SCHEMA_DIR)).filePath(files[0])
                             : QString();
}

bool execSql(sqlite3* db, const QByteArray& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.constData(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) qWarning("sqlite: %s", error ? error : "?");
    sqlite3_free(error);
    return rc == SQLITE_OK;
}

// Rows written with the SQL every version from 1 on understands (the v1 tables).
const char* kV1Rows = R"sql(
INSERT INTO project (key, value) VALUES ('name', 'old project'), ('created_at', '2025-01-01T00:00:00.000Z'), ('app_version', '0.0.1');
INSERT INTO models (id, path, name, content_hash, format, architecture, family, file_bytes, parameter_count, added_at)
    VALUES (1, '/models/a.gguf', 'A', 'fp1:aa', 'gguf', 'llama', 'gqa-moe', 1000, 2000000, '2025-01-01T00:00:01.000Z'),
           (2, '/models/b.gguf', 'B', 'fp1:bb', 'gguf', 'deepseek2', 'deepseek', 3000, 5000000, '2025-01-01T00:00:02.000Z');
INSERT INTO chat_sessions (id, model_id, title, system_prompt, created_at) VALUES (1, 2, 'hello', 'be brief', '2025-01-01T00:00:03.000Z');
INSERT INTO messages (id, session_id, role, content, sampling_json, seed, prompt_tokens, generated_tokens, ttft_ms, tokens_per_second, stop_reason, device, created_at)
    VALUES (1, 1, 'user', 'hi there', '', 0, 3, 0, 0, 0, '', '', '2025-01-01T00:00:04.000Z'),
           (2, 1, 'assistant', 'hello!', '{"temperature":0.7}', 42, 3, 2, 5.5, 100.25, 'eos', 'cpu', '2025-01-01T00:00:05.000Z');
INSERT INTO runs (id, kind, status, model_id, config_json, result_json, started_at, finished_at)
    VALUES (1, 'generate', 'completed', 1, '{"prompt":"x"}', '{"tokens":5}', '2025-01-01T00:00:06.000Z', '2025-01-01T00:00:07.000Z'),
           (2, 'finetune', 'running', 2, '{"lr":0.0001}', '', '2025-01-01T00:00:08.000Z', '');
)sql";

// Builds dir/project.sqlite at schema version `version` (0: an empty file) with data.
bool buildAtVersion(const QString& dir, int version) {
    const QString path = QDir(dir).filePath(QString::fromLatin1(ProjectStore::kDatabaseFile));
    if (version == 0) {
        QFile empty(path);
        return empty.open(QIODevice::WriteOnly);
    }
    sqlite3* db = nullptr;
    if (sqlite3_open(path.toUtf8().constData(), &db) != SQLITE_OK) return false;
    bool ok = execSql(db, "PRAGMA journal_mode=WAL; BEGIN");
    for (int v = 1; ok && v <= version; ++v) {
        QFile file(schemaFile(v));
        ok = file.open(QIODevice::ReadOnly) && execSql(db, file.readAll());
    }
    ok = ok && execSql(db, kV1Rows) &&
         execSql(db, QByteArray("PRAGMA user_version = ") + QByteArray::number(version)) &&
         execSql(db, "COMMIT");
    sqlite3_close(db);
    return ok;
}

} // namespace

class TestProjectMigrations : public QObject {
    Q_OBJECT

private slots:
    void everyEarlierVersionMigrates_data();
    void everyEarlierVersionMigrates();
    void readOnlyRefusesOlderSchema();
};

void TestProjectMigrations::everyEarlierVersionMigrates_data() {
    QTest::addColumn<int>("version");
    for (int v = 0; v < ProjectStore::latestSchemaVersion(); ++v)
        QTest::addRow("from v%d", v) << v;
}

void TestProjectMigrations::everyEarlierVersionMigrates() {
    QFETCH(int, version);
    QTemporaryDir tmp;
    QVERIFY(buildAtVersion(tmp.path(), version));
    auto opened = ProjectStore::open(tmp.path().toStdString());
    QVERIFY2(opened.isOk(), opened.status().toString().c_str());
    ProjectStore& store = **opened;
    QCOMPARE(store.schemaVersion(), ProjectStore::latestSchemaVersion());
    QVERIFY(store.checkIntegrity().isOk());
    if (version == 0) {
        QVERIFY(store.migrationBackup().empty()); // nothing to lose
        QVERIFY(store.models()->empty());
        return;
    }
    // The backup exists and is the untouched old version.
    QVERIFY(QFile::exists(QString::fromStdString(store.migrationBackup())));
    {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open_v2(store.migrationBackup().c_str(), &db, SQLITE_OPEN_READONLY,
                                 nullptr),
                 SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        QCOMPARE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
        QCOMPARE(sqlite3_step(s), SQLITE_ROW);
        QCOMPARE(sqlite3_column_int(s, 0), version);
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    QCOMPARE(store.name(), std::string("old project"));
    auto models = store.models();
    QVERIFY(models.isOk());
    QCOMPARE(models->size(), size_t(2));
    QCOMPARE(models->at(1).path, std::string("/models/b.gguf"));
    QCOMPARE(models->at(1).parameterCount, int64_t(5000000));
    QCOMPARE(models->at(1).family, std::string("deepseek"));
    for (const ModelRecord& m : *models) {
        auto base = store.modelVersions().baseVersion(m.id);
        QVERIFY2(base.isOk(), base.status().toString().c_str());
        QCOMPARE(base->contentHash, m.contentHash);
    }
    auto messages = store.messages(1);
    QCOMPARE(messages->size(), size_t(2));
    QCOMPARE(messages->at(1).content, std::string("hello!"));
    QCOMPARE(messages->at(1).seed, uint64_t(42));
    QCOMPARE(messages->at(1).tokensPerSecond, 100.25);
    QCOMPARE(messages->at(1).samplingJson, std::string(R"({"temperature":0.7})"));
    QCOMPARE(store.chatSessions()->front().systemPrompt, std::string("be brief"));
    // The v1 run left 'running' (by a process long gone) is now interrupted.
    QCOMPARE(store.recoveredRuns(), 1);
    auto run = store.trainingRuns().run(2);
    QVERIFY(run.isOk());
    QCOMPARE(run->status, std::string("interrupted"));
    QVERIFY(!run->finishedAt.empty());
    QCOMPARE(store.trainingRuns().run(1)->resultJson, std::string(R"({"tokens":5})"));
    // Reopening does not migrate (or back up) again.
    opened = moe::Result<std::unique_ptr<ProjectStore>>(
        moe::errorStatus(moe::StatusCode::Internal, "closed"));
    auto again = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(again.isOk());
    QVERIFY((*again)->migrationBackup().empty());
}

void TestProjectMigrations::readOnlyRefusesOlderSchema() {
    QTemporaryDir tmp;
    QVERIFY(buildAtVersion(tmp.path(), 1));
    auto store = ProjectStore::open(tmp.path().toStdString(), ProjectStore::OpenMode::ReadOnly);
    QVERIFY(!store.isOk());
    QCOMPARE(store.status().code(), moe::StatusCode::Unsupported);
    QVERIFY2(store.status().message().find("open it read-write once") != std::string::npos,
             store.status().message().c_str());
}

QTEST_GUILESS_MAIN(TestProjectMigrations)
#include "test-project-migrations.moc"
