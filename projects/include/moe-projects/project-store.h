// ProjectStore: a project folder (project.sqlite + artifact folders) opened by one process.
// SQLite in WAL mode with foreign keys; schema versions are numbered migrations in
// projects/schema/ applied by PRAGMA user_version. Every write is one transaction, so a process
// killed at any moment leaves a consistent database with every committed row.
// The store is a facade: models and chats are here (v0 API), the other entities live in typed
// repositories reached through it (store.trainingRuns(), store.bench(), ...).
// Locking: a read-write open takes an advisory lock on <dir>/project.lock (flock, with the pid
// and host written in it) shared by every store of this process; another process gets a clear
// error naming the holder's pid. OpenMode::ReadOnly takes no lock and writes nothing.
// Thread: a store is used from one thread at a time (the GUI opens its own store for reading
// while a worker's store writes; WAL lets readers proceed during a write).
#pragma once

#include "moe-projects/bench-runs.h"
#include "moe-projects/comparisons.h"
#include "moe-projects/datasets.h"
#include "moe-projects/evals-reports.h"
#include "moe-projects/model-versions.h"
#include "moe-projects/training-runs.h"
#include "moe/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace moe::projects {

struct ModelRecord {
    int64_t id = 0;
    std::string path;         // absolute path of the model file or folder (never copied)
    std::string name;
    std::string contentHash;  // see fileFingerprint()
    std::string format;       // "gguf"
    std::string architecture; // "llama", ...
    std::string family;       // "gqa-moe", ...
    int64_t fileBytes = 0;
    int64_t parameterCount = 0;
    std::string addedAt; // ISO-8601 UTC, set by the store
    int64_t activeParameterCount = 0; // MoE: parameters used per token (0 = unknown)
    std::string quantTypes;           // tensor types present, sorted: "F32,Q4_K"
};

struct ChatSessionRecord {
    int64_t id = 0;
    int64_t modelId = 0;
    std::string title;
    std::string systemPrompt;
    std::string createdAt;
};

struct MessageRecord {
    int64_t id = 0;
    int64_t sessionId = 0;
    std::string role; // "system", "user", "assistant"
    std::string content;
    std::string samplingJson; // {"temperature":..,"top_k":..,"top_p":..,"max_tokens":..}
    uint64_t seed = 0;
    int promptTokens = 0;
    int generatedTokens = 0;
    double ttftMs = 0;
    double tokensPerSecond = 0;
    std::string stopReason; // "eos", "max_tokens", "cancelled", "context_full", "" for user rows
    std::string device;
    std::string createdAt;
    std::string routingJson; // optional routing summary: per-layer expert counts
};

struct RunRecord {
    int64_t id = 0;
    std::string kind;   // "generate", "bench", "finetune", ...
    std::string status; // "running", "completed", "failed", "cancelled", "interrupted"
    std::optional<int64_t> modelId;
    std::string configJson;
    std::string resultJson;
    std::string startedAt;
    std::string finishedAt;
};

class ProjectStore {
public:
    static constexpr const char* kDatabaseFile = "project.sqlite";
    static constexpr const char* kLockFile = "project.lock";
    static constexpr const char* kBackupFolder = "backups";

    enum class OpenMode {
        ReadWrite, // takes the project lock, migrates, recovers interrupted runs
        ReadOnly,  // no lock, no writes; the schema must be this build's
    };

    // Creates dir (if needed) with project.sqlite and the artifact folders; fails if a project
    // already exists there.
    static Result<std::unique_ptr<ProjectStore>> create(const std::string& dir,
                                                        const std::string& name);
    // Opens an existing project. ReadWrite: takes the lock (fails naming the holder's pid when
    // another process has it), backs the database up into backups/ and migrates an older schema,
    // then marks runs left 'running' by a dead process 'interrupted'. Fails clearly, changing
    // nothing, on a newer schema.
    static Result<std::unique_ptr<ProjectStore>> open(const std::string& dir,
                                                      OpenMode mode = OpenMode::ReadWrite);
    // Unpacks an export made by exportTo() into dir (which must not exist or be empty), checks
    // it, and opens it read-write. Nothing is left at dir when it fails.
    static Result<std::unique_ptr<ProjectStore>> importFrom(const std::string& archive,
                                                            const std::string& dir);
    static bool exists(const std::string& dir);
    // The newest schema version this build knows.
    static int latestSchemaVersion();

    ~ProjectStore();
    ProjectStore(const ProjectStore&) = delete;
    ProjectStore& operator=(const ProjectStore&) = delete;

    const std::string& dir() const;
    std::string name() const;
    int schemaVersion() const;
    bool readOnly() const;
    // The backup open() made before migrating ("" when it did not migrate).
    const std::string& migrationBackup() const;
    // How many runs open() marked interrupted.
    int recoveredRuns() const;

    ModelVersionRepo& modelVersions();
    DatasetRepo& datasets();
    ComparisonRepo& comparisons();
    TrainingRunRepo& trainingRuns();
    BenchRepo& bench();
    EvalRepo& evals();
    ReportRepo& reports();

    // Models: adding the same path with the same hash returns the existing id. A new model also
    // gets its base version (modelVersions().baseVersion(id)).
    Result<int64_t> addModel(const ModelRecord& model);
    Result<std::vector<ModelRecord>> models();
    Result<ModelRecord> model(int64_t id);

    Result<int64_t> createChatSession(int64_t modelId, const std::string& title,
                                      const std::string& systemPrompt = {});
    Result<std::vector<ChatSessionRecord>> chatSessions(std::optional<int64_t> modelId = {});
    Result<int64_t> addMessage(const MessageRecord& message);
    Result<std::vector<MessageRecord>> messages(int64_t sessionId);
    // Number of messages in a session, without reading them.
    Result<int64_t> messageCount(int64_t sessionId);

    Result<int64_t> beginRun(const std::string& kind, const std::string& configJson,
                             std::optional<int64_t> modelId = {});
    Status finishRun(int64_t runId, const std::string& status, const std::string& resultJson);
    // Newest first (started_at, then id, descending).
    Result<std::vector<RunRecord>> runs();

    // PRAGMA integrity_check: ok, or the first problems it reports.
    Status checkIntegrity();

    // A consistent copy of project.sqlite (VACUUM INTO; target must not exist).
    Status backupDatabase(const std::string& target);
    // The whole project in one file (tar: manifest, a VACUUM INTO copy of the database, the
    // adapters/, checkpoints/ and reports/ folders). Written to target.partial, then renamed.
    Status exportTo(const std::string& target);

private:
    struct Impl;
    explicit ProjectStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// "fp1:<sha256 hex>" of (file size, first 8 MiB, last 8 MiB): identifies a model file without
// reading gigabytes. A folder hashes its files' names, sizes and fingerprints in name order.
Result<std::string> fileFingerprint(const std::string& path);

} // namespace moe::projects
