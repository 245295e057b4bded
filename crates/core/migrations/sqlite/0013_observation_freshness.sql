-- report health: the newest observation per source and place, kept by etl-to-sql in
-- each batch's transaction (the later of the stored and the loaded time), so that the
-- health check reads a few rows instead of scanning every observation
-- (docs/ARCHITECTURE.md, "Storage"). Filled here from the observations already stored.
CREATE TABLE observation_freshness (
    source      TEXT NOT NULL,
    place       TEXT NOT NULL,             -- places.code
    newest      TEXT NOT NULL,
    PRIMARY KEY (source, place)
);

INSERT INTO observation_freshness (source, place, newest)
SELECT t.source, p.code, max(o.observed_at)
  FROM trend_observations o
  JOIN trends t ON t.id = o.trend_id
  JOIN places p ON p.id = o.place_id
 GROUP BY t.source, p.code;
