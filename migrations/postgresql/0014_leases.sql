-- Leases for several processes (see ../0014_leases.sql).

CREATE TABLE leases (
    scope      TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
