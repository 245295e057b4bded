-- Alerts raised by `alerts`: one row per series and time of the point that raised
-- it, so a rerun never stores one twice. Times are RFC 3339 text in UTC, as in 0001.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    metric      TEXT NOT NULL,             -- 'sentiment' or 'volume'
    direction   TEXT NOT NULL,             -- 'down' or 'up'
    source      TEXT NOT NULL DEFAULT '',  -- '' for sentiment (pooled over sources)
    place       TEXT NOT NULL DEFAULT '',  -- places.code; '' for sentiment
    trend_key   TEXT NOT NULL,
    at          TEXT NOT NULL,             -- the point (window start, observation) that raised it
    value       REAL,
    baseline    REAL,
    score       REAL,                      -- robust z, or the CUSUM for a slow slide
    posts       INTEGER,                   -- posts in the window (sentiment)
    method      TEXT NOT NULL,
    evidence    TEXT,                      -- JSON array of {id, text, compound}
    raised_at   TEXT NOT NULL,
    notified_at TEXT,                      -- when the webhook delivered it
    UNIQUE (metric, trend_key, source, place, at)
);
-- report: the latest alerts.
CREATE INDEX alerts_at ON alerts (at);
