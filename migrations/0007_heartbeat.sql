-- The tick's heartbeat: one row, rewritten by every tick.
-- It doubles as the write probe that tells when a full disk or read-only file is fixed,
-- and lets `praxis check` say when the bot last ran.

CREATE TABLE heartbeat (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    ticked_at TEXT NOT NULL
);
