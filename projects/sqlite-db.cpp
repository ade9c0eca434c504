// RAII connection, statement and transaction over sqlite3 for the project store, and the mapping
// of sqlite3 result codes to moe::Status (see sqlite-db.h). Errors name the database file, the
// operation and sqlite's message, so a user reading "moestudio-cli: ..." knows what failed where.
#include "sqlite-db.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>

namespace moe::projects {

namespace {

StatusCode codeForSqlite(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return StatusCode::CorruptFile;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PERM:
        return StatusCode::IoError;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return StatusCode::InvalidArgument;
    case SQLITE_NOMEM:
        return StatusCode::OutOfMemory;
    default:
        return StatusCode::Internal;
    }
}

std::string baseName(const char* path) {
    return std::filesystem::path(path).filename().string();
}

} // namespace

Status sqliteStatus(const Database& db, int rc, std::string_view op, const char* srcFile,
                    int srcLine) {
    // The connection's message is specific ("no such table: x"); fall back to the generic text
    // for the code when the connection has none (or does not exist).
    std::string message = db.handle() ? sqlite3_errmsg(db.handle()) : sqlite3_errstr(rc);
    std::string text = db.path() + ": " + std::string(op) + ": " + message + " (sqlite " +
                       std::to_string(rc) + " " + sqlite3_errstr(rc) + ", " + baseName(srcFile) +
                       ":" + std::to_string(srcLine) + ")";
    if ((rc & 0xff) == SQLITE_FULL) {
        text += ": the disk holding " + db.path() +
                " is full; nothing of this write was kept. Free some space and try again";
    } else if ((rc & 0xff) == SQLITE_READONLY) {
        text += ": " + db.path() +
                " is read-only (read-only folder or file, or a store opened read-only)";
    }
    return errorStatus(codeForSqlite(rc), std::move(text));
}

// ---- Statement ----------------------------------------------------------------------------

Statement::Statement(const Database* db, sqlite3_stmt* stmt, std::string op)
    : m_db(db), m_stmt(stmt), m_op(std::move(op)) {}

Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)), m_op(std::move(other.m_op)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_op = std::move(other.m_op);
    }
    return *this;
}

Statement::~Statement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

Status Statement::bind(int index, int64_t value) {
    MOE_SQLITE_CHECK(*m_db, sqlite3_bind_int64(m_stmt, index, value), m_op + " (bind)");
    return Status::ok();
}

Status Statement::bind(int index, double value) {
    MOE_SQLITE_CHECK(*m_db, sqlite3_bind_double(m_stmt, index, value), m_op + " (bind)");
    return Status::ok();
}

Status Statement::bind(int index, std::string_view value) {
    MOE_SQLITE_CHECK(*m_db,
                     sqlite3_bind_text64(m_stmt, index, value.data(), value.size(),
                                         SQLITE_TRANSIENT, SQLITE_UTF8),
                     m_op + " (bind)");
    return Status::ok();
}

Status Statement::bindNull(int index) {
    MOE_SQLITE_CHECK(*m_db, sqlite3_bind_null(m_stmt, index), m_op + " (bind)");
    return Status::ok();
}

Result<bool> Statement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqliteStatus(*m_db, rc, m_op, __FILE__, __LINE__);
}

Status Statement::run() {
    MOE_ASSIGN_OR_RETURN(const bool row, step());
    if (row) {
        return errorStatus(StatusCode::Internal,
                           m_db->path() + ": " + m_op + ": statement returned rows unexpectedly");
    }
    return Status::ok();
}

Status Statement::reset() {
    // sqlite3_reset repeats the last step's error; the step already reported it.
    sqlite3_reset(m_stmt);
    MOE_SQLITE_CHECK(*m_db, sqlite3_clear_bindings(m_stmt), m_op + " (reset)");
    return Status::ok();
}

int64_t Statement::columnInt64(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::columnDouble(int column) const {
    return sqlite3_column_double(m_stmt, column);
}

std::string Statement::columnText(int column) const {
    const auto* text = sqlite3_column_text(m_stmt, column);
    if (!text) return {};
    const int bytes = sqlite3_column_bytes(m_stmt, column);
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

bool Statement::columnIsNull(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

// ---- Database -----------------------------------------------------------------------------

Database::Database(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}

Database::~Database() {
    // Statements are owned by callers and finalized before the store (and this) goes away;
    // sqlite3_close_v2 defers the close if one is still alive instead of leaking the handle.
    if (m_db) sqlite3_close_v2(m_db);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenMode mode) {
    std::error_code ec;
    if (mode != OpenMode::CreateIfMissing && !std::filesystem::is_regular_file(path, ec)) {
        return errorStatus(StatusCode::NotFound, path + ": no such database file");
    }
    int flags = (mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX;
    if (mode == OpenMode::CreateIfMissing) flags |= SQLITE_OPEN_CREATE;
    sqlite3* handle = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
    // sqlite3_open_v2 hands back a handle even on failure (for the message); the Database owns
    // and closes it either way.
    std::unique_ptr<Database> db(new Database(handle, path));
    MOE_SQLITE_CHECK(*db, rc, "open");
    sqlite3_extended_result_codes(handle, 1);
    MOE_SQLITE_CHECK(*db, sqlite3_busy_timeout(handle, 5000), "set busy_timeout");
    return db;
}

Status Database::configure() {
    MOE_ASSIGN_OR_RETURN(Statement wal, prepare("PRAGMA journal_mode=WAL", "set journal_mode"));
    MOE_ASSIGN_OR_RETURN(const bool row, wal.step());
    const std::string mode = row ? wal.columnText(0) : std::string();
    if (mode != "wal") {
        return errorStatus(StatusCode::IoError,
                           m_path + ": set journal_mode: the file system refused WAL mode (got '" +
                               mode + "'); a project must live on a local disk");
    }
    MOE_TRY(exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", "configure connection"));
    return Status::ok();
}

Status Database::exec(std::string_view sql, std::string_view op) {
    const std::string text(sql);
    MOE_SQLITE_CHECK(*this, sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr), op);
    return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql, std::string op) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    MOE_SQLITE_CHECK(*this, rc, op + " (prepare)");
    return Statement(this, stmt, std::move(op));
}

Result<int64_t> Database::queryInt(std::string_view sql, std::string_view op) {
    MOE_ASSIGN_OR_RETURN(Statement stmt, prepare(sql, std::string(op)));
    MOE_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) {
        return errorStatus(StatusCode::Internal, m_path + ": " + std::string(op) + ": no row");
    }
    return stmt.columnInt64(0);
}

Status Database::vacuumInto(const std::string& target, std::string_view op) {
    // VACUUM INTO writes only the target, so a read-only store may make one: lift query_only
    // (set by read-only stores) for this statement. A READONLY connection still cannot write
    // its own file.
    MOE_ASSIGN_OR_RETURN(const int64_t queryOnly, queryInt("PRAGMA query_only", op));
    if (queryOnly) MOE_TRY(exec("PRAGMA query_only=OFF", op));
    Status status = [&]() -> Status {
        MOE_ASSIGN_OR_RETURN(Statement s, prepare("VACUUM INTO ?", std::string(op)));
        MOE_TRY(s.bind(1, target));
        return s.run();
    }();
    if (queryOnly) MOE_TRY(exec("PRAGMA query_only=ON", op));
    return status;
}

int64_t Database::lastInsertRowId() const {
    return sqlite3_last_insert_rowid(m_db);
}

int Database::changes() const {
    return sqlite3_changes(m_db);
}

// ---- Transaction --------------------------------------------------------------------------

Result<Transaction> Transaction::begin(Database& db, std::string_view op) {
    MOE_TRY(db.exec("BEGIN IMMEDIATE", std::string(op) + " (begin)"));
    return Transaction(&db, std::string(op));
}

Transaction::Transaction(Transaction&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_op(std::move(other.m_op)) {}

Transaction::~Transaction() {
    // Not committed: undo. A failure here leaves the transaction to sqlite, which rolls back
    // when the connection closes; nothing partial is ever visible to another connection.
    if (m_db && !sqlite3_get_autocommit(m_db->handle())) {
        sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

Status Transaction::commit() {
    Database* db = std::exchange(m_db, nullptr);
    const Status status = db->exec("COMMIT", m_op + " (commit)");
    if (!status.isOk() && !sqlite3_get_autocommit(db->handle())) {
        sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return status;
}

// ---- Time ---------------------------------------------------------------------------------

std::string utcTimestampNow() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t seconds = system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms));
    return buffer;
}

} // namespace moe::projects
