-- The run ledger: one row per run of a stage that used this database
-- (docs/ARCHITECTURE.md, "The run ledger"). A run is written as `running` when it
-- connects and finished when it ends; a row left `running` is a run that died.
CREATE TABLE runs (
    run_id            TEXT PRIMARY KEY,
    stage             TEXT NOT NULL,
    version           TEXT NOT NULL,
    host              TEXT NOT NULL,
    args              TEXT NOT NULL,       -- JSON array, secrets masked
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    status            TEXT NOT NULL,       -- running, ok, partial, alerts, failed
    exit_code         INTEGER,
    counts            TEXT NOT NULL,       -- JSON object of numbers
    watermark_before  TEXT,
    watermark_after   TEXT,
    error             TEXT,
    details           TEXT NOT NULL        -- JSON object: the stage's own figures
);
CREATE INDEX runs_stage_started ON runs (stage, started_at);
