-- A list of members too long for one message is posted in parts (Discord: 2,000
-- characters and 100 people notified per message). Each part is recorded as it is
-- posted, so a retry after a failure or a restart posts only the parts still missing.

-- The message that listed this pair; NULL until then.
ALTER TABLE assignments ADD COLUMN message_id INTEGER;

-- Every part of the round's pairs list is posted (or a permanent failure ended it);
-- NULL while parts are still to post.
ALTER TABLE rounds ADD COLUMN pairs_announced_at TEXT;

-- Rounds paired before this migration were announced (or not) under the old rule:
-- never post their lists again.
UPDATE rounds SET pairs_announced_at = assigned_at WHERE assigned_at IS NOT NULL;
