// Thin RAII layer over sqlite3 for the project store: a connection (Database), a prepared
// statement (Statement) and a write transaction (Transaction). Every sqlite3 result code goes
// through MOE_SQLITE_CHECK, which turns a failure into a moe::Status that names the database
// file, the SQL operation, sqlite's own message and the source line that made the call.
// No exception is thrown; handles are closed/finalized by destructors.
// Thread: one object is used from one thread at a time (like the store that owns it).
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace moe::projects {

class Database;

// Builds the Status for a failed sqlite3 call: "<file>: <op>: <sqlite message> (sqlite <code>
// <name>, <src>:<line>)". Code mapping: SQLITE_CORRUPT/NOTADB -> CorruptFile, CANTOPEN/IOERR/
// FULL/READONLY/BUSY/LOCKED -> IoError, CONSTRAINT/MISMATCH/RANGE -> InvalidArgument, NOMEM ->
// OutOfMemory, everything else -> Internal. SQLITE_FULL and SQLITE_READONLY add a plain sentence
// ("the disk holding <file> is full", "<file> is read-only") so the user knows what to fix.
Status sqliteStatus(const Database& db, int rc, std::string_view op, const char* srcFile,
                    int srcLine);

// Returns the Status for rc from the enclosing function when rc is not SQLITE_OK/ROW/DONE.
#define MOE_SQLITE_CHECK(db, rc, op)                                                               \
    do {                                                                                           \
        const int moeSqliteRc_ = (rc);                                                             \
        if (moeSqliteRc_ != 0 && moeSqliteRc_ != 100 && moeSqliteRc_ != 101)                       \
            return ::moe::projects::sqliteStatus((db), moeSqliteRc_, (op), __FILE__, __LINE__);    \
    } while (0)

// A prepared statement. Bind indices are 1-based, column indices 0-based (as in sqlite3).
// step() yields true for a row, false when done. Text columns that are NULL read as "".
class Statement {
public:
    Statement() = default;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Status bind(int index, int64_t value);
    Status bind(int index, double value);
    Status bind(int index, std::string_view value);
    Status bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Status bindNull(int index);

    bool isPrepared() const { return m_stmt != nullptr; }
    Result<bool> step();
    // Steps once and expects SQLITE_DONE (an INSERT/UPDATE/DELETE).
    Status run();
    Status reset();

    int64_t columnInt64(int column) const;
    double columnDouble(int column) const;
    std::string columnText(int column) const;
    bool columnIsNull(int column) const;

private:
    friend class Database;
    Statement(const Database* db, sqlite3_stmt* stmt, std::string op);

    const Database* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_op; // what the statement does, for error messages ("insert message")
};

class Database {
public:
    enum class OpenMode { ExistingOnly, CreateIfMissing, ReadOnly };

    // Opens path read-write (ReadOnly: read-only, and the file must exist). ExistingOnly and
    // ReadOnly fail with NotFound (naming the path) when the file is missing. Sets busy_timeout=5000 so a writer waits for another's lock instead of failing.
    // Does not write to the file: journal mode and other settings come from configure().
    static Result<std::unique_ptr<Database>> open(const std::string& path, OpenMode mode);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // journal_mode=WAL, foreign_keys=ON, synchronous=NORMAL. journal_mode=WAL writes the file
    // header the first time, so callers check the schema version before configuring.
    Status configure();

    // Runs one or more statements without results (DDL, PRAGMA writes, BEGIN/COMMIT).
    Status exec(std::string_view sql, std::string_view op);
    Result<Statement> prepare(std::string_view sql, std::string op);
    // The first column of the first row of sql, as an integer (PRAGMA user_version, COUNT(*)).
    Result<int64_t> queryInt(std::string_view sql, std::string_view op);

    // VACUUM INTO target: a compact, consistent copy of the database (readers and this
    // connection's own uncommitted state excluded). target must not exist.
    Status vacuumInto(const std::string& target, std::string_view op);

    int64_t lastInsertRowId() const;
    int changes() const;
    const std::string& path() const { return m_path; }
    sqlite3* handle() const { return m_db; }

private:
    Database(sqlite3* db, std::string path);

    sqlite3* m_db = nullptr;
    std::string m_path;
};

// A write transaction: BEGIN IMMEDIATE on begin(), ROLLBACK in the destructor unless commit()
// succeeded. IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
class Transaction {
public:
    static Result<Transaction> begin(Database& db, std::string_view op);
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    Status commit();

private:
    Transaction(Database* db, std::string op) : m_db(db), m_op(std::move(op)) {}

    Database* m_db = nullptr;
    std::string m_op;
};

// Now as ISO-8601 UTC with milliseconds: "2026-11-23T14:12:41.123Z".
std::string utcTimestampNow();

} // namespace moe::projects
