-- The tick's heartbeat: one row, rewritten by every tick (see ../0007_heartbeat.sql).

CREATE TABLE heartbeat (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    ticked_at TEXT NOT NULL
);
