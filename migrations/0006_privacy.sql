-- Members' data rights and retention.

ALTER TABLE cohorts ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days > 0);  -- NULL: keep
ALTER TABLE posts   ADD COLUMN purged_at TEXT;   -- the text was removed by retention or /me forget

-- No extra indexes on posts: every insert pays for each one, and export, forget and
-- retention are rare enough to read through posts_by_round_author or a scan.
