-- Helpfulness ratings (see ../0010_ratings.sql).

CREATE TABLE ratings (
    feedback_message_id BIGINT PRIMARY KEY
        REFERENCES posts(message_id) ON DELETE CASCADE ON UPDATE CASCADE,
    round_id  BIGINT  NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    rater_id  BIGINT  NOT NULL,
    giver_id  BIGINT  NOT NULL,
    helpful   INTEGER CHECK (helpful IN (0, 1)),
    asked_at  TEXT    NOT NULL,
    rated_at  TEXT
);
CREATE INDEX ratings_by_round ON ratings (round_id);
