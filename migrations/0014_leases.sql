-- Leases: which process does a server's scheduled work when several Praxis processes share
-- one database (PostgreSQL; see docs/ARCHITECTURE.md, "Several processes"). A process
-- holds a scope while expires_at is ahead, renewing it every third of the lease; another
-- may take it only once it has expired. A lone process never writes here.

CREATE TABLE leases (
    scope      TEXT PRIMARY KEY,  -- 'discord:<server id>', 'slack:<workspace number>', 'maintenance'
    owner      TEXT NOT NULL,     -- the holding process's token, new at every start
    expires_at TEXT NOT NULL      -- UTC, in the format of every stored time
);
