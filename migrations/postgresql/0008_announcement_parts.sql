-- A pairs list posted in parts, each part recorded as posted (see ../0008_announcement_parts.sql).

ALTER TABLE assignments ADD COLUMN message_id BIGINT;
ALTER TABLE rounds ADD COLUMN pairs_announced_at TEXT;
UPDATE rounds SET pairs_announced_at = assigned_at WHERE assigned_at IS NOT NULL;
