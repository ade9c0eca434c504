// EvalRepo and ReportRepo (see moe-projects/evals-reports.h).
#include "moe-projects/evals-reports.h"

#include "repos/repo-util.h"

namespace moe::projects {

Result<int64_t> EvalRepo::add(const EvalResultRecord& e) {
    if (e.eval.empty() || e.metric.empty()) {
        return errorStatus(StatusCode::InvalidArgument, "eval result: eval and metric must be set");
    }
    MOE_TRY(checkJsonField(e.detailsJson, "eval result details_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add eval result"));
    if (e.runId) MOE_TRY(requireRow(m_db, "runs", "run", *e.runId));
    if (e.versionId) MOE_TRY(requireRow(m_db, "model_versions", "model version", *e.versionId));
    if (e.datasetId) MOE_TRY(requireRow(m_db, "datasets", "dataset", *e.datasetId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO eval_results (run_id, version_id, dataset_id, "
                                      "eval, metric, value, sample_count, details_json, "
                                      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      "add eval result"));
    MOE_TRY(bindOptional(s, 1, e.runId));
    MOE_TRY(bindOptional(s, 2, e.versionId));
    MOE_TRY(bindOptional(s, 3, e.datasetId));
    MOE_TRY(s.bind(4, e.eval));
    MOE_TRY(s.bind(5, e.metric));
    MOE_TRY(s.bind(6, e.value));
    MOE_TRY(s.bind(7, e.sampleCount));
    MOE_TRY(s.bind(8, e.detailsJson));
    MOE_TRY(s.bind(9, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

namespace {

EvalResultRecord readEvalRow(const Statement& r) {
    return EvalResultRecord{.id = r.columnInt64(0),
                            .runId = optionalInt(r, 1),
                            .versionId = optionalInt(r, 2),
                            .datasetId = optionalInt(r, 3),
                            .eval = r.columnText(4),
                            .metric = r.columnText(5),
                            .value = r.columnDouble(6),
                            .sampleCount = r.columnInt64(7),
                            .detailsJson = r.columnText(8),
                            .createdAt = r.columnText(9)};
}

} // namespace

Result<std::vector<EvalResultRecord>> EvalRepo::list(std::optional<int64_t> versionId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, run_id, version_id, dataset_id, eval, metric, "
                                      "value, sample_count, details_json, created_at FROM "
                                      "eval_results WHERE ?1 IS NULL OR version_id = ?1 ORDER BY "
                                      "id DESC",
                                      "list eval results"));
    if (versionId) MOE_TRY(s.bind(1, *versionId));
    return collectRows<EvalResultRecord>(s, readEvalRow);
}

Result<std::vector<EvalResultRecord>> EvalRepo::byRun(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, run_id, version_id, dataset_id, eval, metric, "
                                      "value, sample_count, details_json, created_at FROM "
                                      "eval_results WHERE run_id = ? ORDER BY id",
                                      "list eval results of a run"));
    MOE_TRY(s.bind(1, runId));
    return collectRows<EvalResultRecord>(s, readEvalRow);
}

Result<int64_t> ReportRepo::add(const ReportRecord& r) {
    if (r.format != "html" && r.format != "pdf" && r.format != "csv" && r.format != "md") {
        return errorStatus(StatusCode::InvalidArgument,
                           "report format '" + r.format + "' is not one of html, pdf, csv, md");
    }
    if (r.title.empty() || r.path.empty()) {
        return errorStatus(StatusCode::InvalidArgument, "report title and path must be set");
    }
    MOE_TRY(checkJsonField(r.sourceJson, "report source_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add report"));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO reports (title, format, path, source_json, "
                                      "created_at) VALUES (?, ?, ?, ?, ?)",
                                      "add report"));
    MOE_TRY(s.bind(1, r.title));
    MOE_TRY(s.bind(2, r.format));
    MOE_TRY(s.bind(3, r.path));
    MOE_TRY(s.bind(4, r.sourceJson));
    MOE_TRY(s.bind(5, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<ReportRecord>> ReportRepo::list() {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare("SELECT id, title, format, path, source_json, "
                                                   "created_at FROM reports ORDER BY id DESC",
                                                   "list reports"));
    return collectRows<ReportRecord>(s, [](const Statement& r) {
        return ReportRecord{.id = r.columnInt64(0),
                            .title = r.columnText(1),
                            .format = r.columnText(2),
                            .path = r.columnText(3),
                            .sourceJson = r.columnText(4),
                            .createdAt = r.columnText(5)};
    });
}

} // namespace moe::projects
