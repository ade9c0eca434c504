-- 0002-lineage-training-bench: everything a project records beyond v1's models, chats and runs.
-- * models gain the active parameter count (MoE: parameters used per token) and quant types.
-- * model_versions: a lineage. Each model gets a 'base' version; derived versions (adapter,
--   esft-delta, merge, quantization) point at their parent and keep the config that made them
--   and the run that produced them.
-- * datasets: referenced by path + content hash like models, with row and token counts.
-- * messages gain an optional routing summary (JSON: per-layer expert counts).
-- * comparisons: a prompt set x model versions -> one output (with stats) per cell.
-- * runs gain the lock owner that ran them ("pid@host"; '' = unknown, v1 rows) and their last
--   checkpoint, and per-run metric summaries kept up to date by the metric writer, so the run
--   history list never scans the metrics table.
-- * run_metrics: per-step training metrics named as Hugging Face Trainer logs them.
-- * checkpoints and artifacts of runs (paths relative to the project folder).
-- * bench_runs (environment), bench_samples (raw) and bench_summaries per metric.
-- * eval_results and reports.
-- Timestamps are ISO-8601 UTC text with milliseconds, as in 0001.

ALTER TABLE models ADD COLUMN active_parameter_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN quant_types TEXT NOT NULL DEFAULT ''; -- "Q4_K,F32", sorted

CREATE TABLE model_versions (
    id           INTEGER PRIMARY KEY,
    model_id     INTEGER NOT NULL REFERENCES models (id),
    parent_id    INTEGER REFERENCES model_versions (id),
    kind         TEXT NOT NULL CHECK (kind IN ('base', 'adapter', 'esft-delta', 'merge',
                                              'quantization')),
    name         TEXT NOT NULL DEFAULT '',
    path         TEXT NOT NULL DEFAULT '', -- adapter folder, delta file, merged/quantized model
    content_hash TEXT NOT NULL DEFAULT '',
    config_json  TEXT NOT NULL DEFAULT '', -- the LoRA/ESFT/merge/quantization config
    run_id       INTEGER REFERENCES runs (id),
    created_at   TEXT NOT NULL,
    CHECK ((kind = 'base') = (parent_id IS NULL))
);
CREATE INDEX model_versions_by_model ON model_versions (model_id);
CREATE INDEX model_versions_by_parent ON model_versions (parent_id);

-- Every v1 model becomes the base version of its own lineage.
INSERT INTO model_versions (model_id, kind, name, path, content_hash, created_at)
    SELECT id, 'base', name, path, content_hash, added_at FROM models ORDER BY id;

CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    format       TEXT NOT NULL DEFAULT '', -- "jsonl", "parquet", "text"
    row_count    INTEGER NOT NULL DEFAULT 0,
    token_count  INTEGER NOT NULL DEFAULT 0,
    added_at     TEXT NOT NULL,
    UNIQUE (path, content_hash)
);

ALTER TABLE messages ADD COLUMN routing_json TEXT NOT NULL DEFAULT '';

CREATE TABLE comparisons (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    prompts_json TEXT NOT NULL,            -- ["prompt 0", "prompt 1", ...]
    sampling_json TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE TABLE comparison_outputs (
    comparison_id INTEGER NOT NULL REFERENCES comparisons (id) ON DELETE CASCADE,
    prompt_index  INTEGER NOT NULL,
    version_id    INTEGER NOT NULL REFERENCES model_versions (id),
    output        TEXT NOT NULL,
    stats_json    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (comparison_id, prompt_index, version_id)
) WITHOUT ROWID;

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN dataset_id INTEGER REFERENCES datasets (id);
ALTER TABLE runs ADD COLUMN last_checkpoint_id INTEGER; -- checkpoints.id (no FK: cycle)
ALTER TABLE runs ADD COLUMN metric_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN last_step INTEGER NOT NULL DEFAULT -1;
ALTER TABLE runs ADD COLUMN last_loss REAL;
ALTER TABLE runs ADD COLUMN best_eval_loss REAL;
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_kind_started ON runs (kind, started_at);

-- One row per (run, step); a NULL column was not logged at that step (eval_loss only at
-- evaluation steps). Names as in transformers.Trainer's log history; tokens = tokens seen so far,
-- elapsed = seconds since the run started.
CREATE TABLE run_metrics (
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step          INTEGER NOT NULL,
    loss          REAL,
    eval_loss     REAL,
    learning_rate REAL,
    grad_norm     REAL,
    epoch         REAL,
    tokens        INTEGER,
    elapsed       REAL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step         INTEGER NOT NULL,
    path         TEXT NOT NULL, -- relative to the project folder: checkpoints/run-7/step-500
    metrics_json TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    UNIQUE (run_id, step)
);

CREATE TABLE artifacts (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    kind         TEXT NOT NULL, -- "adapter", "log", "plot", "export", ...
    path         TEXT NOT NULL, -- relative to the project folder
    content_hash TEXT NOT NULL DEFAULT '',
    bytes        INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts (run_id);

CREATE TABLE bench_runs (
    run_id           INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    suite            TEXT NOT NULL,
    gpu              TEXT NOT NULL DEFAULT '',
    driver           TEXT NOT NULL DEFAULT '',
    backend          TEXT NOT NULL DEFAULT '',
    build_commit     TEXT NOT NULL DEFAULT '',
    environment_json TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bench_runs_by_suite ON bench_runs (suite);
CREATE TABLE bench_samples (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric TEXT NOT NULL, -- "decode_tok_s", "ttft_ms", ...
    idx    INTEGER NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, metric, idx)
) WITHOUT ROWID;
CREATE TABLE bench_summaries (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    unit   TEXT NOT NULL DEFAULT '',
    count  INTEGER NOT NULL,
    mean   REAL NOT NULL,
    median REAL NOT NULL,
    p5     REAL NOT NULL,
    p95    REAL NOT NULL,
    stddev REAL NOT NULL,
    PRIMARY KEY (run_id, metric)
) WITHOUT ROWID;

CREATE TABLE eval_results (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    version_id   INTEGER REFERENCES model_versions (id),
    dataset_id   INTEGER REFERENCES datasets (id),
    eval         TEXT NOT NULL, -- "perplexity", "kl", "choice", "exact_match"
    metric       TEXT NOT NULL,
    value        REAL NOT NULL,
    sample_count INTEGER NOT NULL DEFAULT 0,
    details_json TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX eval_results_by_version ON eval_results (version_id, eval);
CREATE INDEX eval_results_by_run ON eval_results (run_id);

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('html', 'pdf', 'csv', 'md')),
    path        TEXT NOT NULL, -- relative to the project folder: reports/...
    source_json TEXT NOT NULL DEFAULT '', -- the runs/comparisons/evals it was made from
    created_at  TEXT NOT NULL
);
