// ModelVersionRepo (see moe-projects/model-versions.h): the version lineage of each model.
#include "moe-projects/model-versions.h"

#include "repos/repo-util.h"

#include <algorithm>
#include <set>

namespace moe::projects {

namespace {

constexpr const char* kColumns =
    "id, model_id, parent_id, kind, name, path, content_hash, config_json, run_id, created_at";

ModelVersionRecord readVersion(const Statement& s) {
    return {.id = s.columnInt64(0),
            .modelId = s.columnInt64(1),
            .parentId = optionalInt(s, 2),
            .kind = s.columnText(3),
            .name = s.columnText(4),
            .path = s.columnText(5),
            .contentHash = s.columnText(6),
            .configJson = s.columnText(7),
            .runId = optionalInt(s, 8),
            .createdAt = s.columnText(9)};
}

} // namespace

Result<ModelVersionRecord> ModelVersionRepo::baseVersion(int64_t modelId) {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare(std::string("SELECT ") + kColumns +
                                                       " FROM model_versions WHERE model_id = ? "
                                                       "AND kind = 'base' ORDER BY id LIMIT 1",
                                                   "read base version"));
    MOE_TRY(s.bind(1, modelId));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound, m_db.path() + ": model " +
                                                     std::to_string(modelId) +
                                                     " has no base version (no such model?)");
    }
    return readVersion(s);
}

Result<int64_t> ModelVersionRepo::addDerived(int64_t parentId, const ModelVersionRecord& v) {
    static const std::set<std::string> kKinds = {"adapter", "esft-delta", "merge",
                                                 "quantization"};
    if (!kKinds.contains(v.kind)) {
        return errorStatus(StatusCode::InvalidArgument,
                           "model version kind '" + v.kind +
                               "' is not one of adapter, esft-delta, merge, quantization");
    }
    MOE_TRY(checkJsonField(v.configJson, "model version config_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add model version"));
    MOE_ASSIGN_OR_RETURN(ModelVersionRecord parent, version(parentId));
    if (v.runId) MOE_TRY(requireRow(m_db, "runs", "run", *v.runId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO model_versions (model_id, parent_id, kind, "
                                      "name, path, content_hash, config_json, run_id, created_at) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      "add model version"));
    MOE_TRY(s.bind(1, parent.modelId));
    MOE_TRY(s.bind(2, parentId));
    MOE_TRY(s.bind(3, v.kind));
    MOE_TRY(s.bind(4, v.name));
    MOE_TRY(s.bind(5, v.path));
    MOE_TRY(s.bind(6, v.contentHash));
    MOE_TRY(s.bind(7, v.configJson));
    MOE_TRY(bindOptional(s, 8, v.runId));
    MOE_TRY(s.bind(9, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Result<ModelVersionRecord> ModelVersionRepo::version(int64_t id) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare(std::string("SELECT ") + kColumns +
                                          " FROM model_versions WHERE id = ?",
                                      "read model version"));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound,
                           m_db.path() + ": no model version with id " + std::to_string(id));
    }
    return readVersion(s);
}

Result<std::vector<ModelVersionRecord>> ModelVersionRepo::versions(int64_t modelId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare(std::string("SELECT ") + kColumns +
                                          " FROM model_versions WHERE model_id = ? ORDER BY id",
                                      "list model versions"));
    MOE_TRY(s.bind(1, modelId));
    return collectRows<ModelVersionRecord>(s, readVersion);
}

Result<std::vector<ModelVersionRecord>> ModelVersionRepo::lineage(int64_t id) {
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        m_db.prepare(std::string("WITH RECURSIVE chain(id, depth) AS (SELECT ?, 0 UNION ALL "
                                 "SELECT v.parent_id, c.depth + 1 FROM model_versions v JOIN "
                                 "chain c ON v.id = c.id WHERE v.parent_id IS NOT NULL) "
                                 "SELECT ") +
                         "v.id, v.model_id, v.parent_id, v.kind, v.name, v.path, v.content_hash, "
                         "v.config_json, v.run_id, v.created_at FROM chain c JOIN model_versions "
                         "v ON v.id = c.id ORDER BY c.depth DESC",
                     "read model lineage"));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(auto chain, collectRows<ModelVersionRecord>(s, readVersion));
    if (chain.empty()) {
        return errorStatus(StatusCode::NotFound,
                           m_db.path() + ": no model version with id " + std::to_string(id));
    }
    return chain;
}

} // namespace moe::projects
