-- report: the category of each trend (sports, entertainment, music, politics, news,
-- tech, brands, other), written by `report` so that analysts can query it. `rule`
-- says how it was found: `provider`, `name:KEYWORD`, `news:KEYWORD`, `posts:KEYWORD`
-- or `default`.
CREATE TABLE trend_categories (
    trend_key   TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    rule        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
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

