-- Nudges, member preferences, excusals and feedback pairs (see ../0004_nudges.sql).

ALTER TABLE cohorts ADD COLUMN reflect_nudge_hours  INTEGER NOT NULL DEFAULT 24 CHECK (reflect_nudge_hours >= 0);
ALTER TABLE cohorts ADD COLUMN last_call            INTEGER NOT NULL DEFAULT 1  CHECK (last_call IN (0, 1));
ALTER TABLE cohorts ADD COLUMN feedback_nudge_hours INTEGER NOT NULL DEFAULT 24 CHECK (feedback_nudge_hours >= 0);
ALTER TABLE cohorts ADD COLUMN quiet_start          TEXT    NOT NULL DEFAULT '21:00';
ALTER TABLE cohorts ADD COLUMN quiet_end            TEXT    NOT NULL DEFAULT '08:00';

ALTER TABLE rounds ADD COLUMN assigned_at           TEXT;
ALTER TABLE rounds ADD COLUMN assignment_message_id BIGINT;

CREATE TABLE member_settings (
    guild_id      BIGINT  NOT NULL,
    user_id       BIGINT  NOT NULL,
    nudges        INTEGER NOT NULL DEFAULT 1 CHECK (nudges IN (0, 1)),
    dm_channel_id BIGINT,
    dms_closed    INTEGER NOT NULL DEFAULT 0 CHECK (dms_closed IN (0, 1)),
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE excusals (
    round_id   BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    member_id  BIGINT NOT NULL,
    excused_by BIGINT NOT NULL,
    created_at TEXT   NOT NULL,
    PRIMARY KEY (round_id, member_id)
);

CREATE TABLE assignments (
    round_id    BIGINT  NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    reviewer_id BIGINT  NOT NULL,
    author_id   BIGINT  NOT NULL CHECK (author_id <> reviewer_id),
    late        INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    PRIMARY KEY (round_id, reviewer_id, author_id)
);
CREATE INDEX assignments_by_author ON assignments (round_id, author_id);
