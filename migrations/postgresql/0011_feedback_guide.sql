-- Guided feedback: the questions a cohort's "Give feedback" form asks (JSON list; NULL: default).

ALTER TABLE cohorts ADD COLUMN feedback_guide TEXT;
