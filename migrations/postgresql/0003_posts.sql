-- What members write in a round (see ../0003_posts.sql).

ALTER TABLE cohorts ADD COLUMN feedback_min_words INTEGER NOT NULL DEFAULT 0 CHECK (feedback_min_words >= 0);

CREATE TABLE posts (
    message_id  BIGINT  PRIMARY KEY,
    round_id    BIGINT  NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    author_id   BIGINT  NOT NULL,
    author_name TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('reflection', 'feedback', 'comment', 'facilitator')),
    source      TEXT    NOT NULL CHECK (source IN ('thread', 'form')),
    form_group  BIGINT,
    reply_to_id BIGINT,
    target_id   BIGINT,
    text        TEXT,
    word_count  INTEGER NOT NULL DEFAULT 0,
    late        INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    acked       INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1)),
    posted_at   TEXT    NOT NULL,
    edited_at   TEXT,
    deleted_at  TEXT
);
CREATE INDEX posts_by_round_author ON posts (round_id, author_id, kind);
CREATE INDEX posts_by_target ON posts (round_id, target_id) WHERE target_id IS NOT NULL;
CREATE INDEX posts_by_group ON posts (form_group) WHERE form_group IS NOT NULL;

CREATE TABLE member_notes (
    round_id  BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    kind      TEXT   NOT NULL,
    channel   TEXT,
    outcome   TEXT,
    sent_at   TEXT   NOT NULL,
    PRIMARY KEY (round_id, member_id, kind)
);
