-- influencers: every component of a score, its rank and percentile, and the model
-- that produced it, so that a score can be explained from the table alone.
-- Counts are BIGINT like the table's other counts (posts, reposts, likes).
ALTER TABLE influencer_scores ADD COLUMN source TEXT;
ALTER TABLE influencer_scores ADD COLUMN rank BIGINT;
ALTER TABLE influencer_scores ADD COLUMN percentile BIGINT;
ALTER TABLE influencer_scores ADD COLUMN reposts_made BIGINT;
ALTER TABLE influencer_scores ADD COLUMN replies BIGINT;
ALTER TABLE influencer_scores ADD COLUMN quotes BIGINT;
ALTER TABLE influencer_scores ADD COLUMN h_index BIGINT;
ALTER TABLE influencer_scores ADD COLUMN cascade_size BIGINT;
ALTER TABLE influencer_scores ADD COLUMN structural_virality DOUBLE PRECISION;
ALTER TABLE influencer_scores ADD COLUMN pagerank DOUBLE PRECISION;
ALTER TABLE influencer_scores ADD COLUMN model TEXT;
ALTER TABLE influencer_scores ADD COLUMN computed_at TIMESTAMPTZ;
-- A rerun replaces the rows of one (trend, window): found through this index.
CREATE INDEX influencer_scores_window ON influencer_scores (trend_key, window_len, window_start);
