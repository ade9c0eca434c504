// TrainingRunRepo (see moe-projects/training-runs.h): runs, metrics, checkpoints, artifacts.
// Workload: a trainer appends metric batches every few steps from a worker thread's store while
// the GUI's store reads history() and metrics(); WAL lets the reads run during the writes.
// appendMetrics() is the hot path: one prepared INSERT reused for every row of a batch, one
// transaction per batch, and the run summary updated once per batch from values computed here.
#include "moe-projects/training-runs.h"

#include "repos/repo-util.h"

#include <algorithm>

namespace moe::projects {

namespace {

constexpr const char* kSummaryColumns =
    "id, kind, status, model_id, dataset_id, config_json, result_json, started_at, finished_at, "
    "owner, metric_count, last_step, last_loss, best_eval_loss, last_checkpoint_id";

RunSummary readSummary(const Statement& s) {
    RunSummary r;
    r.id = s.columnInt64(0);
    r.kind = s.columnText(1);
    r.status = s.columnText(2);
    r.modelId = optionalInt(s, 3);
    r.datasetId = optionalInt(s, 4);
    r.configJson = s.columnText(5);
    r.resultJson = s.columnText(6);
    r.startedAt = s.columnText(7);
    r.finishedAt = s.columnText(8);
    r.owner = s.columnText(9);
    r.metricCount = s.columnInt64(10);
    r.lastStep = s.columnInt64(11);
    r.lastLoss = optionalDouble(s, 12);
    r.bestEvalLoss = optionalDouble(s, 13);
    r.lastCheckpointId = optionalInt(s, 14);
    return r;
}

bool isFinal(const std::string& status) {
    return status == "completed" || status == "failed" || status == "cancelled" ||
           status == "interrupted";
}

// The status of runId, or NotFound.
Result<std::string> runStatus(Database& db, int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         db.prepare("SELECT status FROM runs WHERE id = ?", "read run status"));
    MOE_TRY(s.bind(1, runId));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound,
                           db.path() + ": no run with id " + std::to_string(runId));
    }
    return s.columnText(0);
}

} // namespace

Result<int64_t> TrainingRunRepo::queue(const std::string& kind, const std::string& configJson,
                                       std::optional<int64_t> modelId,
                                       std::optional<int64_t> datasetId) {
    if (kind.empty()) return errorStatus(StatusCode::InvalidArgument, "run kind is empty");
    MOE_TRY(checkJsonField(configJson, "run config_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "queue run"));
    if (modelId) MOE_TRY(requireRow(m_db, "models", "model", *modelId));
    if (datasetId) MOE_TRY(requireRow(m_db, "datasets", "dataset", *datasetId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO runs (kind, status, model_id, dataset_id, "
                                      "config_json, started_at, owner) VALUES "
                                      "(?, 'queued', ?, ?, ?, ?, '')",
                                      "queue run"));
    MOE_TRY(s.bind(1, kind));
    MOE_TRY(bindOptional(s, 2, modelId));
    MOE_TRY(bindOptional(s, 3, datasetId));
    MOE_TRY(s.bind(4, configJson));
    MOE_TRY(s.bind(5, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Status TrainingRunRepo::start(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "start run"));
    MOE_ASSIGN_OR_RETURN(const std::string current, runStatus(m_db, runId));
    if (current != "queued") {
        return errorStatus(StatusCode::InvalidArgument,
                           m_db.path() + ": run " + std::to_string(runId) + " is '" + current +
                               "'; only a queued run can start");
    }
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare("UPDATE runs SET status = 'running', owner = ?, "
                                                   "started_at = ? WHERE id = ?",
                                                   "start run"));
    MOE_TRY(s.bind(1, m_owner));
    MOE_TRY(s.bind(2, utcTimestampNow()));
    MOE_TRY(s.bind(3, runId));
    MOE_TRY(s.run());
    return tx.commit();
}

Result<int64_t> TrainingRunRepo::begin(const std::string& kind, const std::string& configJson,
                                       std::optional<int64_t> modelId,
                                       std::optional<int64_t> datasetId) {
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "begin run"));
    MOE_ASSIGN_OR_RETURN(const int64_t id, insertRunning(kind, configJson, modelId, datasetId));
    MOE_TRY(tx.commit());
    return id;
}

Result<int64_t> TrainingRunRepo::insertRunning(const std::string& kind,
                                               const std::string& configJson,
                                               std::optional<int64_t> modelId,
                                               std::optional<int64_t> datasetId) {
    if (kind.empty()) return errorStatus(StatusCode::InvalidArgument, "run kind is empty");
    MOE_TRY(checkJsonField(configJson, "run config_json"));
    if (modelId) MOE_TRY(requireRow(m_db, "models", "model", *modelId));
    if (datasetId) MOE_TRY(requireRow(m_db, "datasets", "dataset", *datasetId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO runs (kind, status, model_id, dataset_id, "
                                      "config_json, started_at, owner) VALUES "
                                      "(?, 'running', ?, ?, ?, ?, ?)",
                                      "begin run"));
    MOE_TRY(s.bind(1, kind));
    MOE_TRY(bindOptional(s, 2, modelId));
    MOE_TRY(bindOptional(s, 3, datasetId));
    MOE_TRY(s.bind(4, configJson));
    MOE_TRY(s.bind(5, utcTimestampNow()));
    MOE_TRY(s.bind(6, m_owner));
    MOE_TRY(s.run());
    return m_db.lastInsertRowId();
}

Status TrainingRunRepo::finish(int64_t runId, const std::string& status,
                               const std::string& resultJson) {
    if (!isFinal(status)) {
        return errorStatus(StatusCode::InvalidArgument,
                           "run status '" + status +
                               "' is not a final state (completed, failed, cancelled, "
                               "interrupted)");
    }
    MOE_TRY(checkJsonField(resultJson, "run result_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "finish run"));
    MOE_ASSIGN_OR_RETURN(const std::string current, runStatus(m_db, runId));
    if (isFinal(current)) {
        return errorStatus(StatusCode::InvalidArgument,
                           m_db.path() + ": run " + std::to_string(runId) +
                               " already finished as '" + current + "'; cannot mark it '" +
                               status + "'");
    }
    if (current == "queued" && status != "cancelled") {
        // A run that never started can only be withdrawn, not completed, failed or interrupted.
        return errorStatus(StatusCode::InvalidArgument,
                           m_db.path() + ": run " + std::to_string(runId) +
                               " is 'queued'; it can only be cancelled before it starts, not "
                               "marked '" + status + "'");
    }
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("UPDATE runs SET status = ?, result_json = ?, "
                                      "finished_at = ? WHERE id = ?",
                                      "finish run"));
    MOE_TRY(s.bind(1, status));
    MOE_TRY(s.bind(2, resultJson));
    MOE_TRY(s.bind(3, utcTimestampNow()));
    MOE_TRY(s.bind(4, runId));
    MOE_TRY(s.run());
    return tx.commit();
}

Result<RunSummary> TrainingRunRepo::run(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare(std::string("SELECT ") + kSummaryColumns +
                                                       " FROM runs WHERE id = ?",
                                                   "read run"));
    MOE_TRY(s.bind(1, runId));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound,
                           m_db.path() + ": no run with id " + std::to_string(runId));
    }
    return readSummary(s);
}

Result<std::vector<RunSummary>> TrainingRunRepo::history(const RunHistoryQuery& query) {
    // Served by runs_by_started_at (or runs_by_kind_started when filtering by kind): an index
    // walk that stops after limit + offset rows.
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare(std::string("SELECT ") + kSummaryColumns +
                                          " FROM runs WHERE (?1 IS NULL OR kind = ?1) AND "
                                          "(?2 IS NULL OR status = ?2) ORDER BY started_at DESC, "
                                          "id DESC LIMIT ?3 OFFSET ?4",
                                      "list run history"));
    if (query.kind) MOE_TRY(s.bind(1, *query.kind));
    if (query.status) MOE_TRY(s.bind(2, *query.status));
    MOE_TRY(s.bind(3, int64_t{query.limit}));
    MOE_TRY(s.bind(4, int64_t{query.offset}));
    return collectRows<RunSummary>(s, readSummary);
}

Status TrainingRunRepo::appendMetrics(int64_t runId, std::span<const MetricRow> rows) {
    if (rows.empty()) return Status::ok();
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "append metrics"));
    MOE_ASSIGN_OR_RETURN(const std::string current, runStatus(m_db, runId));
    if (isFinal(current)) {
        return errorStatus(StatusCode::InvalidArgument,
                           m_db.path() + ": run " + std::to_string(runId) + " finished as '" +
                               current + "'; it takes no more metrics");
    }
    MOE_ASSIGN_OR_RETURN(
        Statement insert,
        m_db.prepare("INSERT INTO run_metrics (run_id, step, loss, eval_loss, learning_rate, "
                     "grad_norm, epoch, tokens, elapsed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (run_id, step) DO NOTHING",
                     "append metrics"));
    Statement merge; // prepared on the first repeated step only
    int64_t inserted = 0;
    int64_t lastStep = -1;
    std::optional<double> lastLoss;
    std::optional<double> bestEval;
    for (const MetricRow& r : rows) {
        MOE_TRY(insert.bind(1, runId));
        MOE_TRY(insert.bind(2, r.step));
        MOE_TRY(bindOptional(insert, 3, r.loss));
        MOE_TRY(bindOptional(insert, 4, r.evalLoss));
        MOE_TRY(bindOptional(insert, 5, r.learningRate));
        MOE_TRY(bindOptional(insert, 6, r.gradNorm));
        MOE_TRY(bindOptional(insert, 7, r.epoch));
        MOE_TRY(bindOptional(insert, 8, r.tokens));
        MOE_TRY(bindOptional(insert, 9, r.elapsed));
        MOE_TRY(insert.run());
        MOE_TRY(insert.reset());
        if (m_db.changes() == 1) {
            ++inserted;
        } else {
            if (!merge.isPrepared()) {
                MOE_ASSIGN_OR_RETURN(
                    merge, m_db.prepare("UPDATE run_metrics SET loss = coalesce(?3, loss), "
                                        "eval_loss = coalesce(?4, eval_loss), learning_rate = "
                                        "coalesce(?5, learning_rate), grad_norm = coalesce(?6, "
                                        "grad_norm), epoch = coalesce(?7, epoch), tokens = "
                                        "coalesce(?8, tokens), elapsed = coalesce(?9, elapsed) "
                                        "WHERE run_id = ?1 AND step = ?2",
                                        "merge metrics"));
            }
            MOE_TRY(merge.bind(1, runId));
            MOE_TRY(merge.bind(2, r.step));
            MOE_TRY(bindOptional(merge, 3, r.loss));
            MOE_TRY(bindOptional(merge, 4, r.evalLoss));
            MOE_TRY(bindOptional(merge, 5, r.learningRate));
            MOE_TRY(bindOptional(merge, 6, r.gradNorm));
            MOE_TRY(bindOptional(merge, 7, r.epoch));
            MOE_TRY(bindOptional(merge, 8, r.tokens));
            MOE_TRY(bindOptional(merge, 9, r.elapsed));
            MOE_TRY(merge.run());
            MOE_TRY(merge.reset());
        }
        if (r.step >= lastStep && r.loss) {
            lastStep = r.step;
            lastLoss = r.loss;
        }
        lastStep = std::max(lastStep, r.step);
        if (r.evalLoss && (!bestEval || *r.evalLoss < *bestEval)) bestEval = r.evalLoss;
    }
    MOE_ASSIGN_OR_RETURN(
        Statement summary,
        m_db.prepare("UPDATE runs SET metric_count = metric_count + ?2, "
                     "last_loss = CASE WHEN ?4 IS NOT NULL AND ?3 >= last_step THEN ?4 "
                     "ELSE last_loss END, last_step = max(last_step, ?3), "
                     "best_eval_loss = CASE WHEN ?5 IS NULL THEN best_eval_loss "
                     "WHEN best_eval_loss IS NULL THEN ?5 ELSE min(best_eval_loss, ?5) END "
                     "WHERE id = ?1",
                     "update run summary"));
    MOE_TRY(summary.bind(1, runId));
    MOE_TRY(summary.bind(2, inserted));
    MOE_TRY(summary.bind(3, lastStep));
    MOE_TRY(bindOptional(summary, 4, lastLoss));
    MOE_TRY(bindOptional(summary, 5, bestEval));
    MOE_TRY(summary.run());
    return tx.commit();
}

Result<std::vector<MetricRow>> TrainingRunRepo::metrics(int64_t runId, int64_t fromStep,
                                                        size_t maxPoints) {
    int64_t stride = 1;
    if (maxPoints > 0) {
        MOE_ASSIGN_OR_RETURN(Statement c, m_db.prepare("SELECT count(*) FROM run_metrics WHERE "
                                                       "run_id = ? AND step >= ?",
                                                       "count metrics"));
        MOE_TRY(c.bind(1, runId));
        MOE_TRY(c.bind(2, fromStep));
        MOE_TRY(c.step().status());
        const int64_t count = c.columnInt64(0);
        const auto points = static_cast<int64_t>(maxPoints);
        stride = std::max<int64_t>(1, (count + points - 1) / points);
    }
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT step, loss, eval_loss, learning_rate, grad_norm, "
                                      "epoch, tokens, elapsed FROM run_metrics WHERE run_id = ? "
                                      "AND step >= ? ORDER BY step",
                                      "read metrics"));
    MOE_TRY(s.bind(1, runId));
    MOE_TRY(s.bind(2, fromStep));
    std::vector<MetricRow> rows;
    MetricRow last;
    bool lastKept = true;
    for (int64_t i = 0;; ++i) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        MetricRow r{.step = s.columnInt64(0),
                    .loss = optionalDouble(s, 1),
                    .evalLoss = optionalDouble(s, 2),
                    .learningRate = optionalDouble(s, 3),
                    .gradNorm = optionalDouble(s, 4),
                    .epoch = optionalDouble(s, 5),
                    .tokens = optionalInt(s, 6),
                    .elapsed = optionalDouble(s, 7)};
        lastKept = i % stride == 0;
        if (lastKept) {
            rows.push_back(r);
        } else {
            last = r;
        }
    }
    if (!lastKept) rows.push_back(last); // a plot always ends at the newest step
    return rows;
}

Result<int64_t> TrainingRunRepo::addCheckpoint(int64_t runId, int64_t step,
                                               const std::string& path,
                                               const std::string& metricsJson) {
    if (path.empty()) return errorStatus(StatusCode::InvalidArgument, "checkpoint path is empty");
    MOE_TRY(checkJsonField(metricsJson, "checkpoint metrics_json"));
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add checkpoint"));
    MOE_TRY(requireRow(m_db, "runs", "run", runId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO checkpoints (run_id, step, path, metrics_json, "
                                      "created_at) VALUES (?, ?, ?, ?, ?)",
                                      "add checkpoint"));
    MOE_TRY(s.bind(1, runId));
    MOE_TRY(s.bind(2, step));
    MOE_TRY(s.bind(3, path));
    MOE_TRY(s.bind(4, metricsJson));
    MOE_TRY(s.bind(5, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_ASSIGN_OR_RETURN(Statement u, m_db.prepare("UPDATE runs SET last_checkpoint_id = ? "
                                                   "WHERE id = ?",
                                                   "set last checkpoint"));
    MOE_TRY(u.bind(1, id));
    MOE_TRY(u.bind(2, runId));
    MOE_TRY(u.run());
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<CheckpointRecord>> TrainingRunRepo::checkpoints(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, run_id, step, path, metrics_json, created_at "
                                      "FROM checkpoints WHERE run_id = ? ORDER BY step",
                                      "list checkpoints"));
    MOE_TRY(s.bind(1, runId));
    return collectRows<CheckpointRecord>(s, [](const Statement& r) {
        return CheckpointRecord{.id = r.columnInt64(0),
                                .runId = r.columnInt64(1),
                                .step = r.columnInt64(2),
                                .path = r.columnText(3),
                                .metricsJson = r.columnText(4),
                                .createdAt = r.columnText(5)};
    });
}

Result<int64_t> TrainingRunRepo::addArtifact(const ArtifactRecord& a) {
    if (a.kind.empty() || a.path.empty()) {
        return errorStatus(StatusCode::InvalidArgument, "artifact kind and path must be set");
    }
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add artifact"));
    if (a.runId) MOE_TRY(requireRow(m_db, "runs", "run", *a.runId));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO artifacts (run_id, kind, path, content_hash, "
                                      "bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                      "add artifact"));
    MOE_TRY(bindOptional(s, 1, a.runId));
    MOE_TRY(s.bind(2, a.kind));
    MOE_TRY(s.bind(3, a.path));
    MOE_TRY(s.bind(4, a.contentHash));
    MOE_TRY(s.bind(5, a.bytes));
    MOE_TRY(s.bind(6, utcTimestampNow()));
    MOE_TRY(s.run());
    const int64_t id = m_db.lastInsertRowId();
    MOE_TRY(tx.commit());
    return id;
}

Result<std::vector<ArtifactRecord>> TrainingRunRepo::artifacts(std::optional<int64_t> runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT id, run_id, kind, path, content_hash, bytes, "
                                      "created_at FROM artifacts WHERE ?1 IS NULL OR run_id = ?1 "
                                      "ORDER BY id",
                                      "list artifacts"));
    if (runId) MOE_TRY(s.bind(1, *runId));
    return collectRows<ArtifactRecord>(s, [](const Statement& r) {
        return ArtifactRecord{.id = r.columnInt64(0),
                              .runId = optionalInt(r, 1),
                              .kind = r.columnText(2),
                              .path = r.columnText(3),
                              .contentHash = r.columnText(4),
                              .bytes = r.columnInt64(5),
                              .createdAt = r.columnText(6)};
    });
}

Result<int> TrainingRunRepo::recoverInterrupted() {
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "recover interrupted runs"));
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        m_db.prepare("UPDATE runs SET status = 'interrupted', finished_at = ?1, result_json = "
                     "json_object('interrupted', 'the process running it (' || "
                     "CASE owner WHEN '' THEN 'unknown' ELSE owner END || ') went away', "
                     "'last_checkpoint_id', last_checkpoint_id, 'last_step', last_step) "
                     "WHERE status = 'running' AND owner <> ?2",
                     "recover interrupted runs"));
    MOE_TRY(s.bind(1, utcTimestampNow()));
    MOE_TRY(s.bind(2, m_owner));
    MOE_TRY(s.run());
    const int changed = m_db.changes();
    MOE_TRY(tx.commit());
    return changed;
}

} // namespace moe::projects
