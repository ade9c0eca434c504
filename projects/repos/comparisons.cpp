// ComparisonRepo (see moe-projects/comparisons.h). The prompt set is stored as a JSON array.
#include "moe-projects/comparisons.h"

#include "repos/repo-util.h"

#include <nlohmann/json.hpp>

namespace moe::projects {

namespace {

ComparisonRecord readComparison(const Statement& s) {
    ComparisonRecord c{.id = s.columnInt64(0),
                       .name = s.columnText(1),
                       .prompts = {},
                       .samplingJson = s.columnText(3),
                       .createdAt = s.columnText(4)};
    const auto prompts = nlohmann::json::parse(s.columnText(2), nullptr, false);
    if (prompts.is_array()) {
        for (const auto& p : prompts)
            if (p.is_string()) c.prompts.push_back(p.get<std::string>());
    }
    return c;
}

} // namespace

Result<int64_t> ComparisonRepo::create(const std::string& name,
                                       const std::vector<std::string>& prompts,
                                       const std::string& samplingJson) {
    if (prompts.empty()) {
        return errorStatus(StatusCode::InvalidArgument,
                           "comparison '" + name + "': the prompt set is empty");
    }
    MOE_TRY(checkJsonField(samplingJson, "comparison sampling_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "create comparison"));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO comparisons (name, prompts_json, sampling_json, "
                                      "created_at) VALUES (?, ?, ?, ?)",
                                      "create comparison"));
    MOE_TRY(s.bind(1, name));
    MOE_TRY(s.bind(2, nlohmann::json(prompts).dump()));
    MOE_TRY(s.bind(3, samplingJson));
    MOE_TRY(s.bind(4, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Status ComparisonRepo::setOutput(const ComparisonOutput& o) {
    MOE_TRY(checkJsonField(o.statsJson, "comparison output stats_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "record comparison output"));
    MOE_ASSIGN_OR_RETURN(ComparisonRecord c, comparison(o.comparisonId));
    if (o.promptIndex < 0 || static_cast<size_t>(o.promptIndex) >= c.prompts.size()) {
        return errorStatus(StatusCode::InvalidArgument,
                           m_db.path() + ": comparison " + std::to_string(o.comparisonId) +
                               " has " + std::to_string(c.prompts.size()) +
                               " prompts; prompt index " + std::to_string(o.promptIndex) +
                               " is outside");
    }
    MOE_TRY(requireRow(m_db, "model_versions", "model version", o.versionId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT OR REPLACE INTO comparison_outputs (comparison_id, "
                                      "prompt_index, version_id, output, stats_json, created_at) "
                                      "VALUES (?, ?, ?, ?, ?, ?)",
                                      "record comparison output"));
    MOE_TRY(s.bind(1, o.comparisonId));
    MOE_TRY(s.bind(2, int64_t{o.promptIndex}));
    MOE_TRY(s.bind(3, o.versionId));
    MOE_TRY(s.bind(4, o.output));
    MOE_TRY(s.bind(5, o.statsJson));
    MOE_TRY(s.bind(6, utcTimestampNow()));
    MOE_TRY(s.run());
    return tx.commit();
}

Result<ComparisonRecord> ComparisonRepo::comparison(int64_t id) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, name, prompts_json, sampling_json, created_at "
                                      "FROM comparisons WHERE id = ?",
                                      "read comparison"));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound,
                           m_db.path() + ": no comparison with id " + std::to_string(id));
    }
    return readComparison(s);
}

Result<std::vector<ComparisonRecord>> ComparisonRepo::list() {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, name, prompts_json, sampling_json, created_at "
                                      "FROM comparisons ORDER BY id",
                                      "list comparisons"));
    return collectRows<ComparisonRecord>(s, readComparison);
}

Result<std::vector<ComparisonOutput>> ComparisonRepo::outputs(int64_t comparisonId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT comparison_id, prompt_index, version_id, output, "
                                      "stats_json, created_at FROM comparison_outputs WHERE "
                                      "comparison_id = ? ORDER BY prompt_index, version_id",
                                      "list comparison outputs"));
    MOE_TRY(s.bind(1, comparisonId));
    return collectRows<ComparisonOutput>(s, [](const Statement& r) {
        return ComparisonOutput{.comparisonId = r.columnInt64(0),
                                .promptIndex = static_cast<int>(r.columnInt64(1)),
                                .versionId = r.columnInt64(2),
                                .output = r.columnText(3),
                                .statsJson = r.columnText(4),
                                .createdAt = r.columnText(5)};
    });
}

} // namespace moe::projects
