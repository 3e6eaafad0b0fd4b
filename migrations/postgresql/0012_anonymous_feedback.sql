-- Anonymous peer feedback (see ../0012_anonymous_feedback.sql).

ALTER TABLE cohorts ADD COLUMN anonymous_feedback INTEGER NOT NULL DEFAULT 0;

ALTER TABLE posts ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;

CREATE TABLE feedback_labels (
    round_id  BIGINT  NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    author_id BIGINT  NOT NULL,
    number    INTEGER NOT NULL,
    PRIMARY KEY (round_id, author_id),
    UNIQUE (round_id, number)
);
