-- Facilitator reports: where digests go, and proof that a round's digest went out once.

ALTER TABLE cohorts ADD COLUMN digest_channel_id BIGINT;
ALTER TABLE rounds  ADD COLUMN digest_sent_at    TEXT;
