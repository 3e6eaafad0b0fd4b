-- When each scope's scheduled work last ran (see ../0015_lease_ticks.sql).

ALTER TABLE leases ADD COLUMN ticked_at TEXT;
