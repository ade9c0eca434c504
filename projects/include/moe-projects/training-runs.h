// TrainingRunRepo: runs (fine-tunes, and every other kind: generate, bench, eval) with their
// state machine, per-step metrics, checkpoints and artifacts, and the run-history list the Runs
// panel shows.
//
// Run state machine (runs.status):
//
//     queue() --> queued --start()--> running --finish()--+--> completed
//                   |                    |                 +--> failed
//                   |                    |                 +--> cancelled
//                   +--finish(cancelled) |
//                                        +-- owner process died; the next read-write open of
//                                            the project --> interrupted (finished_at set,
//                                            last checkpoint kept)
//
// Final states never change. Metric rows use the names of transformers.Trainer's log history
// (loss, eval_loss, learning_rate, grad_norm, epoch) plus tokens seen and seconds elapsed.
// appendMetrics() writes a batch in one transaction with one prepared statement and keeps the
// per-run summary (count, last step, last loss, best eval loss) in the runs row, so history() never
// scans the metrics table: it is an index walk over runs whatever the metric volume.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moe::projects {

class Database;

struct MetricRow {
    int64_t step = 0;
    std::optional<double> loss;
    std::optional<double> evalLoss;
    std::optional<double> learningRate;
    std::optional<double> gradNorm;
    std::optional<double> epoch;
    std::optional<int64_t> tokens;
    std::optional<double> elapsed; // seconds since the run started
};

struct RunSummary {
    int64_t id = 0;
    std::string kind;
    std::string status;
    std::optional<int64_t> modelId;
    std::optional<int64_t> datasetId;
    std::string configJson;
    std::string resultJson;
    std::string startedAt;
    std::string finishedAt;
    std::string owner; // "pid@host#nonce" of the process that ran it
    int64_t metricCount = 0;
    int64_t lastStep = -1;
    std::optional<double> lastLoss;
    std::optional<double> bestEvalLoss;
    std::optional<int64_t> lastCheckpointId;
};

struct CheckpointRecord {
    int64_t id = 0;
    int64_t runId = 0;
    int64_t step = 0;
    std::string path; // relative to the project folder
    std::string metricsJson;
    std::string createdAt;
};

struct ArtifactRecord {
    int64_t id = 0;
    std::optional<int64_t> runId;
    std::string kind; // "adapter", "log", "plot", "export", ...
    std::string path; // relative to the project folder
    std::string contentHash;
    int64_t bytes = 0;
    std::string createdAt;
};

struct RunHistoryQuery {
    std::optional<std::string> kind;   // only runs of this kind
    std::optional<std::string> status; // only runs in this state
    int limit = 100;
    int offset = 0;
};

class TrainingRunRepo {
public:
    // owner: this process's lock identity, written into the runs it starts.
    TrainingRunRepo(Database& db, std::string owner) : m_db(db), m_owner(std::move(owner)) {}

    Result<int64_t> queue(const std::string& kind, const std::string& configJson,
                          std::optional<int64_t> modelId = {},
                          std::optional<int64_t> datasetId = {});
    // queued -> running (owner and started_at set now).
    Status start(int64_t runId);
    // Inserts a run directly in 'running'.
    Result<int64_t> begin(const std::string& kind, const std::string& configJson,
                          std::optional<int64_t> modelId = {},
                          std::optional<int64_t> datasetId = {});
    // running -> completed | failed | cancelled | interrupted; queued -> cancelled only.
    Status finish(int64_t runId, const std::string& status, const std::string& resultJson);

    Result<RunSummary> run(int64_t runId);
    // Newest first (started_at, id descending), filtered and paged: the Runs panel's list.
    Result<std::vector<RunSummary>> history(const RunHistoryQuery& query = {});

    // Writes rows in one transaction; a step already recorded is merged (columns given now
    // replace, others stay). The run must exist and not be in a final state other than running.
    Status appendMetrics(int64_t runId, std::span<const MetricRow> rows);
    // Rows with step >= fromStep in step order; maxPoints > 0 keeps about that many, evenly
    // spaced, always with the last row (for plotting long runs).
    Result<std::vector<MetricRow>> metrics(int64_t runId, int64_t fromStep = 0,
                                           size_t maxPoints = 0);

    // Records a checkpoint and makes it the run's last checkpoint.
    Result<int64_t> addCheckpoint(int64_t runId, int64_t step, const std::string& path,
                                  const std::string& metricsJson = {});
    Result<std::vector<CheckpointRecord>> checkpoints(int64_t runId);
    Result<int64_t> addArtifact(const ArtifactRecord& artifact);
    Result<std::vector<ArtifactRecord>> artifacts(std::optional<int64_t> runId = {});

    // Marks every 'running' run whose owner is not this process 'interrupted' (finished_at now,
    // result_json noting the last checkpoint). Only correct while this process holds the
    // project lock: then no other process can be running them. Returns how many changed.
    Result<int> recoverInterrupted();

    const std::string& owner() const { return m_owner; }

private:
    friend class BenchRepo; // begins its run and its environment in one transaction

    // Inserts a 'running' run owned by this process inside the caller's open transaction.
    Result<int64_t> insertRunning(const std::string& kind, const std::string& configJson,
                                  std::optional<int64_t> modelId,
                                  std::optional<int64_t> datasetId);

    Database& m_db;
    std::string m_owner;
};

} // namespace moe::projects
