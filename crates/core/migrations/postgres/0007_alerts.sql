-- Alerts raised by `alerts`: one row per series and time of the point that raised
-- it, so a rerun never stores one twice.

CREATE TABLE alerts (
    id          BIGSERIAL PRIMARY KEY,
    metric      TEXT NOT NULL,             -- 'sentiment' or 'volume'
    direction   TEXT NOT NULL,             -- 'down' or 'up'
    source      TEXT NOT NULL DEFAULT '',  -- '' for sentiment (pooled over sources)
    place       TEXT NOT NULL DEFAULT '',  -- places.code; '' for sentiment
    trend_key   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,      -- the point (window start, observation) that raised it
    value       DOUBLE PRECISION,
    baseline    DOUBLE PRECISION,
    score       DOUBLE PRECISION,          -- robust z, or the CUSUM for a slow slide
    posts       BIGINT,                    -- posts in the window (sentiment)
    method      TEXT NOT NULL,
    evidence    TEXT,                      -- JSON array of {id, text, compound}
    raised_at   TIMESTAMPTZ NOT NULL,
    notified_at TIMESTAMPTZ,               -- when the webhook delivered it
    UNIQUE (metric, trend_key, source, place, at)
);
-- report: the latest alerts.
CREATE INDEX alerts_at ON alerts (at);
