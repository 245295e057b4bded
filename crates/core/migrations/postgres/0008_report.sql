-- report: the category of each trend (sports, entertainment, music, politics, news,
-- tech, brands, other), written by `report` so that analysts can query it. `rule`
-- says how it was found: `provider`, `name:KEYWORD`, `news:KEYWORD`, `posts:KEYWORD`
-- or `default`.
CREATE TABLE trend_categories (
    trend_key   TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    rule        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX trend_categories_category ON trend_categories (category);

-- The provider's own category where it gives one (Bluesky's trending topics), for
-- etl-to-sql to fill from the trend record's `category` field.
ALTER TABLE trends ADD COLUMN category TEXT;

-- Titles of the news items a provider attaches to a trend (Google Trends), for
-- etl-to-sql to fill; the report's category rules read them.
CREATE TABLE trend_news (
    trend_key   TEXT NOT NULL,
    title       TEXT NOT NULL,
    PRIMARY KEY (trend_key, title)
);


-- report: the window's observations (top-N, heatmap) and a trend's series read by
-- index-only scans. These replace the two indexes that 0001 and 0002 made for the
-- report, with the columns the report reads included.
DROP INDEX trend_observations_observed_at;
CREATE INDEX trend_observations_window ON trend_observations (observed_at) INCLUDE (trend_id, place_id, volume, rank);
DROP INDEX trend_observations_trend_time;
CREATE INDEX trend_observations_series ON trend_observations (trend_id, observed_at) INCLUDE (place_id, volume, rank);
