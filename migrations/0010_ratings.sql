-- Helpfulness ratings: the writer of a reflection says privately whether each piece of
-- feedback on it helped. One row per feedback message, made when Praxis asks (the row is
-- the proof it asked, so it asks once) and filled in, or changed, when the writer answers.
-- ON UPDATE CASCADE: /me forget gives a forgotten giver's posts new ids; the rating follows.

CREATE TABLE ratings (
    feedback_message_id INTEGER PRIMARY KEY
        REFERENCES posts(message_id) ON DELETE CASCADE ON UPDATE CASCADE,
    round_id  INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    rater_id  INTEGER NOT NULL,           -- the reflection's writer (the feedback's target)
    giver_id  INTEGER NOT NULL,           -- who wrote the feedback
    helpful   INTEGER CHECK (helpful IN (0, 1)),  -- NULL: asked, not answered yet
    asked_at  TEXT    NOT NULL,
    rated_at  TEXT
);
CREATE INDEX ratings_by_round ON ratings (round_id);
