-- Anonymous peer feedback (a cohort option, off by default): feedback given through the
-- "Give feedback" form is posted under a per-round label ("Peer 3") instead of the giver's
-- name. posts.anonymous marks those posts (the row still carries the real author_id, so it
-- counts for the giver and facilitators' reports name them); feedback_labels keeps each
-- giver's number in a round, assigned in order of first anonymous feedback, so it stays the
-- same across restarts.

ALTER TABLE cohorts ADD COLUMN anonymous_feedback INTEGER NOT NULL DEFAULT 0;

ALTER TABLE posts ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;

CREATE TABLE feedback_labels (
    round_id  INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL,
    number    INTEGER NOT NULL,
    PRIMARY KEY (round_id, author_id),
    UNIQUE (round_id, number)
);
