-- Private reflections (see ../0013_private_reflections.sql).

ALTER TABLE posts ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
ALTER TABLE cohorts ADD COLUMN private_reflections INTEGER NOT NULL DEFAULT 1
    CHECK (private_reflections IN (0, 1));
