-- The author's follower count as each post's latest observation carried it. `authors`
-- keeps only the latest count; influencers needs the largest seen in its window
-- (see docs/ARCHITECTURE.md, influencers), which is the largest over the author's
-- posts of that window.

ALTER TABLE posts ADD COLUMN author_followers bigint CHECK (author_followers IS NULL OR author_followers >= 0);
