-- 0001-initial: the first schema of a project database.
-- Creates the project meta table (name, created_at, app_version as key/value rows), the model
-- library (referenced by path + content hash, never copied), chat sessions and their messages
-- (with sampling parameters and generation stats), and runs (generate, bench, finetune, ...) with
-- their state. Timestamps are ISO-8601 UTC text with milliseconds, e.g. 2026-11-23T14:12:41.123Z.

CREATE TABLE project (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE models (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL,
    format          TEXT NOT NULL DEFAULT '',
    architecture    TEXT NOT NULL DEFAULT '',
    family          TEXT NOT NULL DEFAULT '',
    file_bytes      INTEGER NOT NULL DEFAULT 0,
    parameter_count INTEGER NOT NULL DEFAULT 0,
    added_at        TEXT NOT NULL,
    UNIQUE (path, content_hash)
);

CREATE TABLE chat_sessions (
    id            INTEGER PRIMARY KEY,
    model_id      INTEGER NOT NULL REFERENCES models (id),
    title         TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
);
CREATE INDEX chat_sessions_by_model ON chat_sessions (model_id);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content           TEXT NOT NULL,
    sampling_json     TEXT NOT NULL DEFAULT '',
    seed              INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    generated_tokens  INTEGER NOT NULL DEFAULT 0,
    ttft_ms           REAL NOT NULL DEFAULT 0,
    tokens_per_second REAL NOT NULL DEFAULT 0,
    stop_reason       TEXT NOT NULL DEFAULT '',
    device            TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL
);
CREATE INDEX messages_by_session ON messages (session_id, id);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed',
                                                'cancelled', 'interrupted')),
    model_id    INTEGER REFERENCES models (id),
    config_json TEXT NOT NULL DEFAULT '',
    result_json TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_started_at ON runs (started_at);
CREATE INDEX runs_by_model ON runs (model_id);
