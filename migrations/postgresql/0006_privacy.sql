-- Members' data rights and retention.

ALTER TABLE cohorts ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days > 0);
ALTER TABLE posts   ADD COLUMN purged_at TEXT;
