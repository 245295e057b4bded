-- post_trends as a clustered table: its primary key is the table (WITHOUT ROWID),
-- instead of a rowid table plus an index of the same two columns. A link costs one
-- B-tree entry instead of two, and the key index holds (trend_key, post) all the same.

CREATE TABLE post_trends_clustered (
    post        INTEGER NOT NULL REFERENCES posts (id),
    trend_key   TEXT NOT NULL,
    PRIMARY KEY (post, trend_key)
) WITHOUT ROWID;

INSERT INTO post_trends_clustered (post, trend_key) SELECT post, trend_key FROM post_trends;
DROP TABLE post_trends;
ALTER TABLE post_trends_clustered RENAME TO post_trends;
CREATE INDEX post_trends_key ON post_trends (trend_key);
