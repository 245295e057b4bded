-- Trend observations: one row per trend, place and time (docs/ARCHITECTURE.md, "Storage").
-- Timestamps are RFC 3339 text in UTC, which sorts as time.

CREATE TABLE places (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,      -- WOEID, country code or instance host
    name        TEXT
);

CREATE TABLE trends (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    key         TEXT NOT NULL,             -- normalised name, joins snapshots
    name        TEXT NOT NULL,             -- display name of the latest observation
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    UNIQUE (source, key)
);

CREATE TABLE trend_observations (
    trend_id    INTEGER NOT NULL REFERENCES trends (id),
    place_id    INTEGER NOT NULL REFERENCES places (id),
    observed_at TEXT NOT NULL,
    volume      INTEGER CHECK (volume IS NULL OR volume >= 0),
    rank        INTEGER CHECK (rank IS NULL OR rank >= 1),
    run_id      TEXT,
    PRIMARY KEY (trend_id, place_id, observed_at)
);

-- report: top-N in a time window.
CREATE INDEX trend_observations_observed_at ON trend_observations (observed_at);

CREATE TABLE etl_watermarks (
    stream      TEXT PRIMARY KEY,          -- e.g. 'mongo:trends'
    watermark   TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
