// Schema and migration tests of the project store: migrating an empty database, the embedded
// migrations matching projects/schema/, connection settings, and refusing a database whose
// schema is newer than this build (the file must stay byte-for-byte unchanged).
#include "moe-projects/project-store.h"

#include <sqlite3.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using moe::projects::ProjectStore;

namespace {

// Runs sql on path with a plain sqlite3 connection (no store) and returns the first column of
// the first row as text, or "" when there is none.
QString rawQuery(const QString& path, const char* sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return QStringLiteral("<open failed>");
    }
    sqlite3_stmt* stmt = nullptr;
    QString result;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
            result = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            result = QStringLiteral("<error: %1>").arg(QString::fromUtf8(sqlite3_errmsg(db)));
        }
    } else {
        result = QStringLiteral("<error: %1>").arg(QString::fromUtf8(sqlite3_errmsg(db)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

} // namespace

class TestProjectSchema : public QObject {
    Q_OBJECT

private slots:
    void embeddedMigrationsMatchSchemaFolder();
    void migratesFromEmptyDatabase();
    void createSetsSchemaAndMeta();
    void connectionUsesWal();
    void newerSchemaIsRefusedAndFileUnchanged();
};

void TestProjectSchema::embeddedMigrationsMatchSchemaFolder() {
    // A stale embed (a .sql file added without rebuilding the generated source) shows up here.
    const QStringList files =
        QDir(QStringLiteral(MOE_PROJECTS_SCHEMA_DIR)).entryList({QStringLiteral("*.sql")});
    QVERIFY(!files.isEmpty());
    QCOMPARE(ProjectStore::latestSchemaVersion(), files.size());
}

void TestProjectSchema::migratesFromEmptyDatabase() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString dbPath = dir.filePath(ProjectStore::kDatabaseFile);
    {
        QFile empty(dbPath);
        QVERIFY(empty.open(QIODevice::WriteOnly)); // a zero-byte file is an empty sqlite database
    }
    QVERIFY(ProjectStore::exists(dir.path().toStdString()));
    {
        auto store = ProjectStore::open(dir.path().toStdString());
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        QCOMPARE((*store)->schemaVersion(), ProjectStore::latestSchemaVersion());
    }
    QCOMPARE(rawQuery(dbPath, "PRAGMA user_version").toInt(), ProjectStore::latestSchemaVersion());
    for (const char* table : {"project", "models", "chat_sessions", "messages", "runs"}) {
        const QByteArray sql =
            QByteArray("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '") + table +
            "'";
        QCOMPARE(rawQuery(dbPath, sql.constData()), QString::fromLatin1(table));
    }
    for (const char* index : {"messages_by_session", "runs_by_started_at"}) {
        const QByteArray sql =
            QByteArray("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '") + index +
            "'";
        QCOMPARE(rawQuery(dbPath, sql.constData()), QString::fromLatin1(index));
    }
}

void TestProjectSchema::createSetsSchemaAndMeta() {
    QTemporaryDir dir;
    const QString projectDir = dir.filePath(QStringLiteral("new/nested"));
    {
        auto store = ProjectStore::create(projectDir.toStdString(), "Schema test");
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        QCOMPARE((*store)->schemaVersion(), ProjectStore::latestSchemaVersion());
    }
    const QString dbPath = QDir(projectDir).filePath(ProjectStore::kDatabaseFile);
    QCOMPARE(rawQuery(dbPath, "SELECT value FROM project WHERE key = 'name'"),
             QStringLiteral("Schema test"));
    QVERIFY(!rawQuery(dbPath, "SELECT value FROM project WHERE key = 'app_version'").isEmpty());
    const QString createdAt =
        rawQuery(dbPath, "SELECT value FROM project WHERE key = 'created_at'");
    QVERIFY2(QRegularExpression(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"))
                 .match(createdAt)
                 .hasMatch(),
             qPrintable(createdAt));
    for (const char* sub : {"adapters", "checkpoints", "reports", "exports"})
        QVERIFY2(QDir(projectDir).exists(QString::fromLatin1(sub)), sub);
}

void TestProjectSchema::connectionUsesWal() {
    QTemporaryDir dir;
    auto store = ProjectStore::create(dir.path().toStdString(), "wal");
    QVERIFY2(store.isOk(), store.status().toString().c_str());
    // journal_mode=WAL is persistent in the file, so a second plain connection sees it.
    QCOMPARE(rawQuery(dir.filePath(ProjectStore::kDatabaseFile), "PRAGMA journal_mode"),
             QStringLiteral("wal"));
}

void TestProjectSchema::newerSchemaIsRefusedAndFileUnchanged() {
    QTemporaryDir dir;
    {
        auto store = ProjectStore::create(dir.path().toStdString(), "future");
        QVERIFY2(store.isOk(), store.status().toString().c_str());
    }
    const QString dbPath = dir.filePath(ProjectStore::kDatabaseFile);
    const int newer = ProjectStore::latestSchemaVersion() + 1;
    const QByteArray setVersion = "PRAGMA user_version = " + QByteArray::number(newer);
    QCOMPARE(rawQuery(dbPath, setVersion.constData()), QString());
    QCOMPARE(rawQuery(dbPath, "PRAGMA user_version").toInt(), newer);
    const QByteArray before = readAll(dbPath);
    QVERIFY(!before.isEmpty());

    auto store = ProjectStore::open(dir.path().toStdString());
    QVERIFY(!store.isOk());
    QCOMPARE(store.status().code(), moe::StatusCode::Unsupported);
    const QString message = QString::fromStdString(store.status().message());
    QVERIFY2(message.contains(dbPath), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("newer")), qPrintable(message));
    QVERIFY2(message.contains(QString::number(newer)), qPrintable(message));

    QCOMPARE(readAll(dbPath), before);
    QCOMPARE(rawQuery(dbPath, "PRAGMA user_version").toInt(), newer);
}

QTEST_GUILESS_MAIN(TestProjectSchema)
#include "test-project-schema.moc"
