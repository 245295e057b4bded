ALTER TABLE posts ADD COLUMN repost_of TEXT;
ALTER TABLE posts ADD COLUMN conversation_id TEXT;
CREATE INDEX posts_repost_of ON posts (repost_of);
