-- Posts, their authors and the tables the later stages fill (docs/ARCHITECTURE.md, "Storage").

CREATE TABLE authors (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    author_id   TEXT NOT NULL,             -- the provider's id
    handle      TEXT,
    followers   INTEGER CHECK (followers IS NULL OR followers >= 0),
    updated_at  TEXT NOT NULL,             -- observed_at of the values above
    UNIQUE (source, author_id)
);

CREATE TABLE posts (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    post_id     TEXT NOT NULL,             -- the provider's id
    author      INTEGER REFERENCES authors (id),
    url         TEXT,
    text        TEXT,
    lang        TEXT,
    created_at  TEXT,
    observed_at TEXT NOT NULL,             -- when the counts below were read
    reposts     INTEGER CHECK (reposts IS NULL OR reposts >= 0),
    likes       INTEGER CHECK (likes IS NULL OR likes >= 0),
    replies     INTEGER CHECK (replies IS NULL OR replies >= 0),
    quotes      INTEGER CHECK (quotes IS NULL OR quotes >= 0),
    parent_id   TEXT,                      -- provider id of the post replied to
    quote_of    TEXT,                      -- provider id of the post quoted
    UNIQUE (source, post_id)
);
CREATE INDEX posts_created_at ON posts (created_at);
CREATE INDEX posts_author ON posts (author);

-- A post can be collected for several trends.
CREATE TABLE post_trends (
    post        INTEGER NOT NULL REFERENCES posts (id),
    trend_key   TEXT NOT NULL,
    PRIMARY KEY (post, trend_key)
);
CREATE INDEX post_trends_key ON post_trends (trend_key);

CREATE TABLE post_sentiment (
    post        INTEGER PRIMARY KEY REFERENCES posts (id),
    model       TEXT NOT NULL,
    compound    REAL NOT NULL,
    pos         REAL NOT NULL,
    neu         REAL NOT NULL,
    neg         REAL NOT NULL,
    label       TEXT NOT NULL,
    scored_at   TEXT NOT NULL
);

CREATE TABLE trend_sentiment (
    trend_key       TEXT NOT NULL,
    window_len      TEXT NOT NULL,         -- '1h', '1d'
    window_start    TEXT NOT NULL,
    posts           INTEGER NOT NULL,
    mean_compound   REAL NOT NULL,
    share_positive  REAL NOT NULL,
    share_neutral   REAL NOT NULL,
    share_negative  REAL NOT NULL,
    label           TEXT NOT NULL,
    PRIMARY KEY (trend_key, window_len, window_start)
);

CREATE TABLE influencer_scores (
    author          INTEGER NOT NULL REFERENCES authors (id),
    trend_key       TEXT NOT NULL,
    window_len      TEXT NOT NULL,
    window_start    TEXT NOT NULL,
    score           REAL NOT NULL,
    posts           INTEGER NOT NULL,
    reposts         INTEGER NOT NULL,
    likes           INTEGER NOT NULL,
    followers       INTEGER,
    cascade_depth   INTEGER,
    PRIMARY KEY (author, trend_key, window_len, window_start)
);

-- report: a trend's time series across places.
CREATE INDEX trend_observations_trend_time ON trend_observations (trend_id, observed_at);
