// ProjectStore (see moe-projects/project-store.h): one project folder, one sqlite connection.
// Every public write is one IMMEDIATE transaction, so a process killed at any instant leaves the
// database with exactly the writes whose call returned. Inputs are validated here (roles, run
// states, JSON fields, referenced ids) so callers get a message naming the field rather than
// sqlite's bare "constraint failed"; the schema's CHECK and FOREIGN KEY clauses stay as backstop.
//
// This file holds the v0 facade calls (models, chats, the plain run list); opening and creating
// are in project-open.cpp, backup/export/import in project-archive.cpp, and the other entities in
// repos/. beginRun()/finishRun() delegate to TrainingRunRepo, whose head draws the run states.
#include "moe-projects/project-store.h"

#include "repos/repo-util.h"
#include "store-impl.h"

#include <utility>

namespace moe::projects {

namespace {

constexpr const char* kModelColumns =
    "id, path, name, content_hash, format, architecture, family, file_bytes, parameter_count, "
    "added_at, active_parameter_count, quant_types";
constexpr const char* kMessageColumns =
    "id, session_id, role, content, sampling_json, seed, prompt_tokens, generated_tokens, "
    "ttft_ms, tokens_per_second, stop_reason, device, created_at, routing_json";
constexpr const char* kRunColumns =
    "id, kind, status, model_id, config_json, result_json, started_at, finished_at";

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
            .addedAt = s.columnText(9),
            .activeParameterCount = s.columnInt64(10),
            .quantTypes = s.columnText(11)};
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
            .createdAt = s.columnText(12),
            .routingJson = s.columnText(13)};
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

ProjectStore::ProjectStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ProjectStore::~ProjectStore() = default;

const std::string& ProjectStore::dir() const {
    return m_impl->dir;
}
std::string ProjectStore::name() const {
    return m_impl->name;
}
int ProjectStore::schemaVersion() const {
    return m_impl->schemaVersion;
}
bool ProjectStore::readOnly() const {
    return m_impl->readOnly;
}
const std::string& ProjectStore::migrationBackup() const {
    return m_impl->migrationBackup;
}
int ProjectStore::recoveredRuns() const {
    return m_impl->recoveredRuns;
}

ModelVersionRepo& ProjectStore::modelVersions() {
    return *m_impl->modelVersions;
}
DatasetRepo& ProjectStore::datasets() {
    return *m_impl->datasets;
}
ComparisonRepo& ProjectStore::comparisons() {
    return *m_impl->comparisons;
}
TrainingRunRepo& ProjectStore::trainingRuns() {
    return *m_impl->trainingRuns;
}
BenchRepo& ProjectStore::bench() {
    return *m_impl->bench;
}
EvalRepo& ProjectStore::evals() {
    return *m_impl->evals;
}
ReportRepo& ProjectStore::reports() {
    return *m_impl->reports;
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
                   "file_bytes, parameter_count, added_at, active_parameter_count, quant_types) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
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
    const std::string now = utcTimestampNow();
    MOE_TRY(insert.bind(9, now));
    MOE_TRY(insert.bind(10, model.activeParameterCount));
    MOE_TRY(insert.bind(11, model.quantTypes));
    MOE_TRY(insert.run());
    int64_t id = db.lastInsertRowId();
    if (db.changes() == 1) {
        // Every model is the base of its own version lineage.
        MOE_ASSIGN_OR_RETURN(Statement base,
                             db.prepare("INSERT INTO model_versions (model_id, kind, name, path, "
                                        "content_hash, created_at) VALUES (?, 'base', ?, ?, ?, ?)",
                                        "add base version"));
        MOE_TRY(base.bind(1, id));
        MOE_TRY(base.bind(2, model.name));
        MOE_TRY(base.bind(3, model.path));
        MOE_TRY(base.bind(4, model.contentHash));
        MOE_TRY(base.bind(5, now));
        MOE_TRY(base.run());
    } else {
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
    MOE_TRY(requireRow(*m_impl->db, "models", "model", modelId));
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
    MOE_TRY(checkJsonField(message.samplingJson, "message sampling_json"));
    MOE_TRY(checkJsonField(message.routingJson, "message routing_json"));
    Database& db = *m_impl->db;
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "add message"));
    MOE_TRY(requireRow(*m_impl->db, "chat_sessions", "chat session", message.sessionId));
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        db.prepare("INSERT INTO messages (session_id, role, content, sampling_json, seed, "
                   "prompt_tokens, generated_tokens, ttft_ms, tokens_per_second, stop_reason, "
                   "device, created_at, routing_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    MOE_TRY(s.bind(13, message.routingJson));
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
    return m_impl->trainingRuns->begin(kind, configJson, modelId);
}

Status ProjectStore::finishRun(int64_t runId, const std::string& status,
                               const std::string& resultJson) {
    return m_impl->trainingRuns->finish(runId, status, resultJson);
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
