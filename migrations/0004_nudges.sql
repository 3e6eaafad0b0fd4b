-- Nudges, member preferences, excusals and feedback pairs.

ALTER TABLE cohorts ADD COLUMN reflect_nudge_hours  INTEGER NOT NULL DEFAULT 24 CHECK (reflect_nudge_hours >= 0);
ALTER TABLE cohorts ADD COLUMN last_call            INTEGER NOT NULL DEFAULT 1  CHECK (last_call IN (0, 1));
ALTER TABLE cohorts ADD COLUMN feedback_nudge_hours INTEGER NOT NULL DEFAULT 24 CHECK (feedback_nudge_hours >= 0);
ALTER TABLE cohorts ADD COLUMN quiet_start          TEXT    NOT NULL DEFAULT '21:00';  -- local HH:MM
ALTER TABLE cohorts ADD COLUMN quiet_end            TEXT    NOT NULL DEFAULT '08:00';  -- equal = no quiet hours

ALTER TABLE rounds ADD COLUMN assigned_at           TEXT;     -- feedback pairs made (once)
ALTER TABLE rounds ADD COLUMN assignment_message_id INTEGER;  -- the one message announcing them

-- A member's choices in one server, and how to reach them privately.
CREATE TABLE member_settings (
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    nudges        INTEGER NOT NULL DEFAULT 1 CHECK (nudges IN (0, 1)),
    dm_channel_id INTEGER,                    -- known DM channel: a DM then costs one request
    dms_closed    INTEGER NOT NULL DEFAULT 0 CHECK (dms_closed IN (0, 1)),
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Members a facilitator excused from a round: never nudged, shown as excused in reports.
CREATE TABLE excusals (
    round_id   INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL,
    excused_by INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (round_id, member_id)
);

-- Feedback pairs: reviewer is asked to respond to author's reflection.
CREATE TABLE assignments (
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    reviewer_id INTEGER NOT NULL,
    author_id   INTEGER NOT NULL CHECK (author_id <> reviewer_id),
    late        INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    PRIMARY KEY (round_id, reviewer_id, author_id)
);
CREATE INDEX assignments_by_author ON assignments (round_id, author_id);
