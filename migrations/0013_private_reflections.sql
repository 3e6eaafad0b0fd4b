-- Private reflections: a member may send a round's reflection to the cohort's facilitators
-- only. It counts like any reflection, is never in the thread, and is never assigned for
-- peer feedback. A cohort can turn the option off.

ALTER TABLE posts ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
ALTER TABLE cohorts ADD COLUMN private_reflections INTEGER NOT NULL DEFAULT 1
    CHECK (private_reflections IN (0, 1));
