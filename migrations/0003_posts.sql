-- What members write in a round: reflections, peer feedback, comments, facilitator notes.
-- One row per Discord message, keyed by its id, so a message delivered twice is stored once.

ALTER TABLE cohorts ADD COLUMN feedback_min_words INTEGER NOT NULL DEFAULT 0 CHECK (feedback_min_words >= 0);

CREATE TABLE posts (
    message_id  INTEGER PRIMARY KEY,      -- the Discord message holding the text
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    author_id   INTEGER NOT NULL,         -- the member who wrote it (also for form posts the bot sent)
    author_name TEXT    NOT NULL,         -- display name when written, for reports
    kind        TEXT    NOT NULL CHECK (kind IN ('reflection', 'feedback', 'comment', 'facilitator')),
    source      TEXT    NOT NULL CHECK (source IN ('thread', 'form')),
    form_group  INTEGER,                  -- form posts longer than one message share the first's id
    reply_to_id INTEGER,                  -- the message this one replies to, if any
    target_id   INTEGER,                  -- feedback: the member whose reflection it answers
    text        TEXT,                     -- NULL once deleted, forgotten or purged
    word_count  INTEGER NOT NULL DEFAULT 0,
    late        INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),  -- after its deadline when first written
    acked       INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1)), -- carries the bot's ✅
    posted_at   TEXT    NOT NULL,
    edited_at   TEXT,
    deleted_at  TEXT
);
CREATE INDEX posts_by_round_author ON posts (round_id, author_id, kind);
CREATE INDEX posts_by_target ON posts (round_id, target_id) WHERE target_id IS NOT NULL;
CREATE INDEX posts_by_group ON posts (form_group) WHERE form_group IS NOT NULL;

-- Every private message Praxis sends a member about a round (nudges, "too short" notes),
-- at most one per member, round and kind: the row is the proof it was sent.
CREATE TABLE member_notes (
    round_id  INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    channel   TEXT,                       -- 'dm', 'thread' or 'ephemeral'
    outcome   TEXT,                       -- 'sent' or why not
    sent_at   TEXT    NOT NULL,
    PRIMARY KEY (round_id, member_id, kind)
);
