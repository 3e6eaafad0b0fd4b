-- Guided feedback: the questions a cohort's "Give feedback" form asks, one field each,
-- as a JSON list of headings. NULL: Praxis's default guide. An empty list: one free-text
-- field, as before guides existed.

ALTER TABLE cohorts ADD COLUMN feedback_guide TEXT;
