-- Placeholder on branch p15-private only: number 0012 belongs to the anonymous-feedback
-- branch. Delete this file when merging (0013_private_reflections.sql follows it).
SELECT 1;
