-- When each scope's scheduled work last ran, by whichever process held its lease (several
-- processes only). The shared heartbeat says when *some* process last ticked; a round
-- claimed late needs to know whether *its* server's work ran since the slot (then the
-- slot was passed over on purpose and has been put back) or not (Praxis was offline for
-- it). A clean stop now expires its leases instead of deleting them, so this survives.

ALTER TABLE leases ADD COLUMN ticked_at TEXT;
