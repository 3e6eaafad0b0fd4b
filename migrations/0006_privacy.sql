-- Members' data rights and retention.

ALTER TABLE cohorts ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days > 0);  -- NULL: keep
ALTER TABLE posts   ADD COLUMN purged_at TEXT;   -- the text was removed by retention or /me forget

CREATE INDEX posts_by_author ON posts (author_id);
CREATE INDEX posts_by_posted ON posts (posted_at) WHERE text IS NOT NULL;
