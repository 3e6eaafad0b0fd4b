-- Two platforms over one schema. Every id column stays an INTEGER: Discord's snowflakes are
-- integers already, and each Slack id (team T…, channel C…, user U…, user group S…, a
-- message's "channel:ts") is given a small integer here, once, by the Slack adapter.
-- AUTOINCREMENT: an id is never handed out twice, even after its row is deleted (/me forget),
-- so a forgotten person's old number can't come to mean somebody else.
-- Slack numbers stay far below 2^40; a Discord snowflake made after 2015 is above 2^42, so a
-- Slack channel and a Discord channel can never share an id in any table.

CREATE TABLE platform_ids (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL CHECK (platform IN ('slack')),
    kind     TEXT NOT NULL CHECK (kind IN ('team', 'channel', 'user', 'usergroup', 'message')),
    external TEXT NOT NULL,
    UNIQUE (platform, kind, external)
);

-- Which platform a cohort lives on; the tick drives each cohort through that platform.
ALTER TABLE cohorts ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord'
    CHECK (platform IN ('discord', 'slack'));
