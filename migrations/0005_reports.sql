-- Facilitator reports: where digests go, and proof that a round's digest went out once.

ALTER TABLE cohorts ADD COLUMN digest_channel_id INTEGER;  -- NULL: digests go to facilitators by DM
ALTER TABLE rounds  ADD COLUMN digest_sent_at    TEXT;     -- claimed before sending: once per round
