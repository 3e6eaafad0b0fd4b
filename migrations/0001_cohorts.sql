-- Cohorts: one reflective-practice group in one Discord server, with its weekly schedule.
CREATE TABLE cohorts (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    name                TEXT    NOT NULL,
    name_key            TEXT    NOT NULL,           -- casefolded name: names are unique per guild, ignoring case
    channel_id          INTEGER NOT NULL,
    member_role_id      INTEGER NOT NULL,
    facilitator_role_id INTEGER,
    timezone            TEXT    NOT NULL DEFAULT 'UTC',
    weekday             INTEGER NOT NULL DEFAULT 0 CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    post_time           TEXT    NOT NULL DEFAULT '09:00',                            -- HH:MM, local
    reflect_hours       INTEGER NOT NULL DEFAULT 72  CHECK (reflect_hours > 0),
    feedback_hours      INTEGER NOT NULL DEFAULT 144 CHECK (feedback_hours >= reflect_hours),
    feedback_required   INTEGER NOT NULL DEFAULT 2   CHECK (feedback_required >= 0),
    min_words           INTEGER NOT NULL DEFAULT 0   CHECK (min_words >= 0),
    paused              INTEGER NOT NULL DEFAULT 0   CHECK (paused IN (0, 1)),
    schedule_from       TEXT    NOT NULL,           -- UTC ISO-8601; no round is due before this instant
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    UNIQUE (guild_id, name_key)
);
