-- influencers: every component of a score, its rank and percentile, and the model
-- that produced it, so that a score can be explained from the table alone.
ALTER TABLE influencer_scores ADD COLUMN source TEXT;
ALTER TABLE influencer_scores ADD COLUMN rank INTEGER;
ALTER TABLE influencer_scores ADD COLUMN percentile INTEGER;
ALTER TABLE influencer_scores ADD COLUMN reposts_made INTEGER;
ALTER TABLE influencer_scores ADD COLUMN replies INTEGER;
ALTER TABLE influencer_scores ADD COLUMN quotes INTEGER;
ALTER TABLE influencer_scores ADD COLUMN h_index INTEGER;
ALTER TABLE influencer_scores ADD COLUMN cascade_size INTEGER;
ALTER TABLE influencer_scores ADD COLUMN structural_virality REAL;
ALTER TABLE influencer_scores ADD COLUMN pagerank REAL;
ALTER TABLE influencer_scores ADD COLUMN model TEXT;
ALTER TABLE influencer_scores ADD COLUMN computed_at TEXT;
-- A rerun replaces the rows of one (trend, window): found through this index.
CREATE INDEX influencer_scores_window ON influencer_scores (trend_key, window_len, window_start);
