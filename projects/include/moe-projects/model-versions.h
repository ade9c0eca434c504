// ModelVersionRepo: the lineage of model versions in a project. Every model added to the project
// has one 'base' version; derived versions (a LoRA adapter, an ESFT expert delta, a merge, a
// quantization) name their parent and keep the config (JSON) and the run that made them, so the
// studio can show "base -> adapter -> merge -> Q4_K" and redo any step.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::projects {

class Database;

struct ModelVersionRecord {
    int64_t id = 0;
    int64_t modelId = 0;
    std::optional<int64_t> parentId; // empty exactly for kind "base"
    std::string kind;                // "base", "adapter", "esft-delta", "merge", "quantization"
    std::string name;
    std::string path;
    std::string contentHash;
    std::string configJson;
    std::optional<int64_t> runId;
    std::string createdAt;
};

class ModelVersionRepo {
public:
    explicit ModelVersionRepo(Database& db) : m_db(db) {}

    // The base version of a model (made by ProjectStore::addModel).
    Result<ModelVersionRecord> baseVersion(int64_t modelId);
    // Adds a derived version under parentId (same model). kind must not be "base"; configJson
    // must be valid JSON or empty; runId, when set, must exist.
    Result<int64_t> addDerived(int64_t parentId, const ModelVersionRecord& version);
    Result<ModelVersionRecord> version(int64_t id);
    // All versions of a model in creation order.
    Result<std::vector<ModelVersionRecord>> versions(int64_t modelId);
    // The chain from the base down to id: [base, ..., id].
    Result<std::vector<ModelVersionRecord>> lineage(int64_t id);

private:
    Database& m_db;
};

} // namespace moe::projects
