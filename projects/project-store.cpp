// ProjectStore (see moe-projects/project-store.h): one project folder, one sqlite connection.
// Every public write is one IMMEDIATE transaction, so a process killed at any instant leaves the
// database with exactly the writes whose call returned. Inputs are validated here (roles, run
// states, JSON fields, referenced ids) so callers get a message naming the field rather than
// sqlite's bare "constraint failed"; the schema's CHECK and FOREIGN KEY clauses stay as backstop.
//
// Run state machine (runs.status):
//
//     queued --> running --+--> completed
//        |                 +--> failed
//        |                 +--> cancelled
//        |                 +--> interrupted   (the process running it went away)
//        +---------------------> cancelled
//
// beginRun() inserts "running" directly; "queued" is for a scheduler that records runs before it
// starts them. finishRun() moves queued/running to a final state; final states never change.
#include "moe-projects/project-store.h"

#include "migrations.h"
#include "sqlite-db.h"

#include "moe/version.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <utility>

namespace moe::projects {

namespace fs = std::filesystem;

namespace {

constexpr const char* kArtifactFolders[] = {"adapters", "checkpoints", "reports", "exports"};

constexpr const char* kModelColumns =
    "id, path, name, content_hash, format, architecture, family, file_bytes, parameter_count, "
    "added_at";
constexpr const char* kMessageColumns =
    "id, session_id, role, content, sampling_json, seed, prompt_tokens, generated_tokens, "
    "ttft_ms, tokens_per_second, stop_reason, device, created_at";
constexpr const char* kRunColumns =
    "id, kind, status, model_id, config_json, result_json, started_at, finished_at";

std::string normalizedDir(const std::string& dir) {
    std::error_code ec;
    fs::path path = fs::absolute(dir, ec);
    if (ec) path = dir;
    path = path.lexically_normal();
    std::string text = path.string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

Status checkJson(const std::string& text, const char* field) {
    if (text.empty() || nlohmann::json::accept(text)) return Status::ok();
    return errorStatus(StatusCode::InvalidArgument,
                       std::string(field) + " is not valid JSON: " + text.substr(0, 80));
}

ModelRecord readModel(const Statement& s) {
    return {.id = s.columnInt64(0),
            .path = s.columnText(1),
            .name = s.columnText(2),
            .contentHash = s.columnText(3),
            .format = s.columnText(4),
            .architecture = s.columnText(5),
            .family = s.columnText(6),
            .fileBytes = s.columnInt64(7),
            .parameterCount = s.columnInt64(8),
            .addedAt = s.columnText(9)};
}

MessageRecord readMessage(const Statement& s) {
    return {.id = s.columnInt64(0),
            .sessionId = s.columnInt64(1),
            .role = s.columnText(2),
            .content = s.columnText(3),
            .samplingJson = s.columnText(4),
            .seed = static_cast<uint64_t>(s.columnInt64(5)),
            .promptTokens = static_cast<int>(s.columnInt64(6)),
            .generatedTokens = static_cast<int>(s.columnInt64(7)),
            .ttftMs = s.columnDouble(8),
            .tokensPerSecond = s.columnDouble(9),
            .stopReason = s.columnText(10),
            .device = s.columnText(11),
            .createdAt = s.columnText(12)};
}

RunRecord readRun(const Statement& s) {
    RunRecord run{.id = s.columnInt64(0),
                  .kind = s.columnText(1),
                  .status = s.columnText(2),
                  .modelId = std::nullopt,
                  .configJson = s.columnText(4),
                  .resultJson = s.columnText(5),
                  .startedAt = s.columnText(6),
                  .finishedAt = s.columnText(7)};
    if (!s.columnIsNull(3)) run.modelId = s.columnInt64(3);
    return run;
}

} // namespace

struct ProjectStore::Impl {
    std::string dir;
    std::unique_ptr<Database> db;
    std::string name;
    int schemaVersion = 0;

    Status notFound(const std::string& what, int64_t id) const {
        return errorStatus(StatusCode::NotFound,
                           db->path() + ": no " + what + " with id " + std::to_string(id));
    }

    // Whether a row with this id exists in table (a fixed name from this file, never user text).
    Result<bool> rowExists(const char* table, int64_t id) {
        MOE_ASSIGN_OR_RETURN(Statement s,
                             db->prepare(std::string("SELECT 1 FROM ") + table + " WHERE id = ?",
                                         std::string("look up ") + table));
        MOE_TRY(s.bind(1, id));
        return s.step();
    }

    Status requireRow(const char* table, const char* what, int64_t id) {
        MOE_ASSIGN_OR_RETURN(const bool found, rowExists(table, id));
        return found ? Status::ok() : notFound(what, id);
    }

    Status loadName() {
        MOE_ASSIGN_OR_RETURN(
            Statement s,
            db->prepare("SELECT value FROM project WHERE key = 'name'", "read project name"));
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        name = row ? s.columnText(0) : std::string();
        return Status::ok();
    }
};

ProjectStore::ProjectStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ProjectStore::~ProjectStore() = default;

bool ProjectStore::exists(const std::string& dir) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / kDatabaseFile, ec);
}

int ProjectStore::latestSchemaVersion() {
    return latestMigrationVersion();
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::create(const std::string& dir,
                                                           const std::string& name) {
    if (dir.empty()) return errorStatus(StatusCode::InvalidArgument, "project folder is empty");
    auto impl = std::make_unique<Impl>();
    impl->dir = normalizedDir(dir);
    if (exists(impl->dir)) {
        return errorStatus(StatusCode::InvalidArgument,
                           impl->dir + ": already holds a MoE Studio project (" + kDatabaseFile +
                               "); open it instead");
    }
    std::error_code ec;
    fs::create_directories(impl->dir, ec);
    if (ec) {
        return errorStatus(StatusCode::IoError,
                           impl->dir + ": cannot create project folder: " + ec.message());
    }
    for (const char* sub : kArtifactFolders) {
        fs::create_directories(fs::path(impl->dir) / sub, ec);
        if (ec) {
            return errorStatus(StatusCode::IoError,
                               impl->dir + ": cannot create folder " + sub + ": " + ec.message());
        }
    }
    impl->name = name.empty() ? fs::path(impl->dir).filename().string() : name;

    const std::string dbPath = (fs::path(impl->dir) / kDatabaseFile).string();
    MOE_ASSIGN_OR_RETURN(impl->db, Database::open(dbPath, Database::OpenMode::CreateIfMissing));
    MOE_TRY(impl->db->configure());
    Database& db = *impl->db;
    const std::string projectName = impl->name;
    // The meta rows go in with the schema: a project is either fully made or still empty.
    auto writeMeta = [&db, &projectName]() -> Status {
        MOE_ASSIGN_OR_RETURN(
            Statement s,
            db.prepare("INSERT INTO project (key, value) VALUES (?, ?)", "write project meta"));
        const std::pair<const char*, std::string> rows[] = {
            {"name", projectName},
            {"created_at", utcTimestampNow()},
            {"app_version", versionString()},
        };
        for (const auto& [key, value] : rows) {
            MOE_TRY(s.bind(1, key));
            MOE_TRY(s.bind(2, value));
            MOE_TRY(s.run());
            MOE_TRY(s.reset());
        }
        return Status::ok();
    };
    MOE_ASSIGN_OR_RETURN(impl->schemaVersion, migrate(db, writeMeta));
    return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::open(const std::string& dir) {
    auto impl = std::make_unique<Impl>();
    impl->dir = normalizedDir(dir);
    std::error_code ec;
    if (!fs::is_directory(impl->dir, ec)) {
        return errorStatus(StatusCode::NotFound, impl->dir + ": no such project folder");
    }
    if (!exists(impl->dir)) {
        return errorStatus(StatusCode::NotFound, impl->dir + ": not a MoE Studio project (no " +
                                                     kDatabaseFile + " in this folder)");
    }
    const std::string dbPath = (fs::path(impl->dir) / kDatabaseFile).string();
    MOE_ASSIGN_OR_RETURN(impl->db, Database::open(dbPath, Database::OpenMode::ExistingOnly));
    // Refuse a newer schema before anything (journal mode included) writes to the file.
    MOE_TRY(checkSchemaVersion(*impl->db).status());
    MOE_TRY(impl->db->configure());
    MOE_ASSIGN_OR_RETURN(impl->schemaVersion, migrate(*impl->db));
    MOE_TRY(impl->loadName());
    return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
}

const std::string& ProjectStore::dir() const {
    return m_impl->dir;
}
std::string ProjectStore::name() const {
    return m_impl->name;
}
int ProjectStore::schemaVersion() const {
    return m_impl->schemaVersion;
}

// ---- models -------------------------------------------------------------------------------

Result<int64_t> ProjectStore::addModel(const ModelRecord& model) {
    if (model.path.empty()) return errorStatus(StatusCode::InvalidArgument, "model path is empty");
    if (model.contentHash.empty()) {
        return errorStatus(StatusCode::InvalidArgument,
                           model.path + ": model content hash is empty (see fileFingerprint)");
    }
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "add model"));
    MOE_ASSIGN_OR_RETURN(
        Statement insert,
        db.prepare("INSERT INTO models (path, name, content_hash, format, architecture, family, "
                   "file_bytes, parameter_count, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (path, content_hash) DO NOTHING",
                   "add model"));
    MOE_TRY(insert.bind(1, model.path));
    MOE_TRY(insert.bind(2, model.name));
    MOE_TRY(insert.bind(3, model.contentHash));
    MOE_TRY(insert.bind(4, model.format));
    MOE_TRY(insert.bind(5, model.architecture));
    MOE_TRY(insert.bind(6, model.family));
    MOE_TRY(insert.bind(7, model.fileBytes));
    MOE_TRY(insert.bind(8, model.parameterCount));
    MOE_TRY(insert.bind(9, utcTimestampNow()));
    MOE_TRY(insert.run());
    int64_t id = db.lastInsertRowId();
    if (db.changes() == 0) {
        MOE_ASSIGN_OR_RETURN(Statement find,
                             db.prepare("SELECT id FROM models WHERE path = ? AND content_hash = ?",
                                        "find existing model"));
        MOE_TRY(find.bind(1, model.path));
        MOE_TRY(find.bind(2, model.contentHash));
        MOE_ASSIGN_OR_RETURN(const bool row, find.step());
        if (!row) {
            return errorStatus(StatusCode::Internal,
                               db.path() + ": add model: insert ignored but no existing row");
        }
        id = find.columnInt64(0);
    }
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<ModelRecord>> ProjectStore::models() {
    MOE_ASSIGN_OR_RETURN(Statement s, m_impl->db->prepare(std::string("SELECT ") + kModelColumns +
                                                              " FROM models ORDER BY id",
                                                          "list models"));
    std::vector<ModelRecord> result;
    while (true) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        result.push_back(readModel(s));
    }
    return result;
}

Result<ModelRecord> ProjectStore::model(int64_t id) {
    MOE_ASSIGN_OR_RETURN(Statement s, m_impl->db->prepare(std::string("SELECT ") + kModelColumns +
                                                              " FROM models WHERE id = ?",
                                                          "read model"));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) return m_impl->notFound("model", id);
    return readModel(s);
}

// ---- chat ---------------------------------------------------------------------------------

Result<int64_t> ProjectStore::createChatSession(int64_t modelId, const std::string& title,
                                                const std::string& systemPrompt) {
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "create chat session"));
    MOE_TRY(m_impl->requireRow("models", "model", modelId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         db.prepare("INSERT INTO chat_sessions (model_id, title, system_prompt, "
                                    "created_at) VALUES (?, ?, ?, ?)",
                                    "create chat session"));
    MOE_TRY(s.bind(1, modelId));
    MOE_TRY(s.bind(2, title));
    MOE_TRY(s.bind(3, systemPrompt));
    MOE_TRY(s.bind(4, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<ChatSessionRecord>> ProjectStore::chatSessions(std::optional<int64_t> modelId) {
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        m_impl->db->prepare("SELECT id, model_id, title, system_prompt, created_at FROM "
                            "chat_sessions WHERE ?1 IS NULL OR model_id = ?1 ORDER BY id",
                            "list chat sessions"));
    if (modelId) MOE_TRY(s.bind(1, *modelId));
    std::vector<ChatSessionRecord> result;
    while (true) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        result.push_back({.id = s.columnInt64(0),
                          .modelId = s.columnInt64(1),
                          .title = s.columnText(2),
                          .systemPrompt = s.columnText(3),
                          .createdAt = s.columnText(4)});
    }
    return result;
}

Result<int64_t> ProjectStore::addMessage(const MessageRecord& message) {
    if (message.role != "system" && message.role != "user" && message.role != "assistant") {
        return errorStatus(StatusCode::InvalidArgument,
                           "message role '" + message.role +
                               "' is not one of system, user, assistant");
    }
    MOE_TRY(checkJson(message.samplingJson, "message sampling_json"));
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "add message"));
    MOE_TRY(m_impl->requireRow("chat_sessions", "chat session", message.sessionId));
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        db.prepare("INSERT INTO messages (session_id, role, content, sampling_json, seed, "
                   "prompt_tokens, generated_tokens, ttft_ms, tokens_per_second, stop_reason, "
                   "device, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "add message"));
    MOE_TRY(s.bind(1, message.sessionId));
    MOE_TRY(s.bind(2, message.role));
    MOE_TRY(s.bind(3, message.content));
    MOE_TRY(s.bind(4, message.samplingJson));
    MOE_TRY(s.bind(5, static_cast<int64_t>(message.seed))); // stored two's complement
    MOE_TRY(s.bind(6, int64_t{message.promptTokens}));
    MOE_TRY(s.bind(7, int64_t{message.generatedTokens}));
    MOE_TRY(s.bind(8, message.ttftMs));
    MOE_TRY(s.bind(9, message.tokensPerSecond));
    MOE_TRY(s.bind(10, message.stopReason));
    MOE_TRY(s.bind(11, message.device));
    MOE_TRY(s.bind(12, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<MessageRecord>> ProjectStore::messages(int64_t sessionId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_impl->db->prepare(std::string("SELECT ") + kMessageColumns +
                                                 " FROM messages WHERE session_id = ? ORDER BY id",
                                             "list messages"));
    MOE_TRY(s.bind(1, sessionId));
    std::vector<MessageRecord> result;
    while (true) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        result.push_back(readMessage(s));
    }
    return result;
}

Result<int64_t> ProjectStore::messageCount(int64_t sessionId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_impl->db->prepare("SELECT COUNT(*) FROM messages WHERE session_id = ?",
                                             "count messages"));
    MOE_TRY(s.bind(1, sessionId));
    MOE_TRY(s.step().status());
    return s.columnInt64(0);
}

// ---- runs ---------------------------------------------------------------------------------

Result<int64_t> ProjectStore::beginRun(const std::string& kind, const std::string& configJson,
                                       std::optional<int64_t> modelId) {
    if (kind.empty()) return errorStatus(StatusCode::InvalidArgument, "run kind is empty");
    MOE_TRY(checkJson(configJson, "run config_json"));
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "begin run"));
    if (modelId) MOE_TRY(m_impl->requireRow("models", "model", *modelId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         db.prepare("INSERT INTO runs (kind, status, model_id, config_json, "
                                    "started_at) VALUES (?, 'running', ?, ?, ?)",
                                    "begin run"));
    MOE_TRY(s.bind(1, kind));
    if (modelId) {
        MOE_TRY(s.bind(2, *modelId));
    } else {
        MOE_TRY(s.bindNull(2));
    }
    MOE_TRY(s.bind(3, configJson));
    MOE_TRY(s.bind(4, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Status ProjectStore::finishRun(int64_t runId, const std::string& status,
                               const std::string& resultJson) {
    if (status != "completed" && status != "failed" && status != "cancelled" &&
        status != "interrupted") {
        return errorStatus(StatusCode::InvalidArgument,
                           "run status '" + status +
                               "' is not a final state (completed, failed, cancelled, "
                               "interrupted)");
    }
    MOE_TRY(checkJson(resultJson, "run result_json"));
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "finish run"));
    MOE_ASSIGN_OR_RETURN(Statement find,
                         db.prepare("SELECT status FROM runs WHERE id = ?", "read run status"));
    MOE_TRY(find.bind(1, runId));
    MOE_ASSIGN_OR_RETURN(const bool row, find.step());
    if (!row) return m_impl->notFound("run", runId);
    const std::string current = find.columnText(0);
    if (current != "queued" && current != "running") {
        return errorStatus(StatusCode::InvalidArgument,
                           db.path() + ": run " + std::to_string(runId) + " already finished as '" +
                               current + "'; cannot mark it '" + status + "'");
    }
    MOE_ASSIGN_OR_RETURN(Statement s,
                         db.prepare("UPDATE runs SET status = ?, result_json = ?, finished_at = ? "
                                    "WHERE id = ?",
                                    "finish run"));
    MOE_TRY(s.bind(1, status));
    MOE_TRY(s.bind(2, resultJson));
    MOE_TRY(s.bind(3, utcTimestampNow()));
    MOE_TRY(s.bind(4, runId));
    MOE_TRY(s.run());
    return tx.commit();
}

Result<std::vector<RunRecord>> ProjectStore::runs() {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_impl->db->prepare(std::string("SELECT ") + kRunColumns +
                                                 " FROM runs ORDER BY started_at DESC, id DESC",
                                             "list runs"));
    std::vector<RunRecord> result;
    while (true) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        result.push_back(readRun(s));
    }
    return result;
}

// ---- integrity ----------------------------------------------------------------------------

Status ProjectStore::checkIntegrity() {
    constexpr size_t kMaxProblems = 10;
    Database& db = *m_impl->db;
    std::vector<std::string> problems;
    {
        MOE_ASSIGN_OR_RETURN(Statement s, db.prepare("PRAGMA integrity_check", "integrity check"));
        while (problems.size() < kMaxProblems) {
            MOE_ASSIGN_OR_RETURN(const bool row, s.step());
            if (!row) break;
            const std::string line = s.columnText(0);
            if (line != "ok") problems.push_back(line);
        }
    }
    {
        // Rows whose parent is missing: possible only if something wrote with foreign_keys off.
        MOE_ASSIGN_OR_RETURN(Statement s,
                             db.prepare("PRAGMA foreign_key_check", "foreign key check"));
        while (problems.size() < kMaxProblems) {
            MOE_ASSIGN_OR_RETURN(const bool row, s.step());
            if (!row) break;
            problems.push_back(s.columnText(0) + " row " + std::to_string(s.columnInt64(1)) +
                               " refers to a missing " + s.columnText(2) + " row");
        }
    }
    if (problems.empty()) return Status::ok();
    std::string text = db.path() + ": integrity check failed: ";
    for (size_t i = 0; i < problems.size(); ++i)
        text += (i ? "; " : "") + problems[i];
    return errorStatus(StatusCode::CorruptFile, std::move(text));
}

} // namespace moe::projects
