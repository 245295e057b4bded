-- The links between posts that fetch-posts records (see docs/ARCHITECTURE.md):
-- the post a repost copies, whose counts the repost carries, and the thread's first
-- post. Influence scoring follows repost_of to the original, hence its index.

ALTER TABLE posts ADD COLUMN repost_of TEXT;
ALTER TABLE posts ADD COLUMN conversation_id TEXT;
CREATE INDEX posts_repost_of ON posts (repost_of);
