-- Which replica stored a waiting message. That replica answers it itself (told in its own
-- memory at commit); the others pick up only rows another replica stored, so a burst on one
-- replica is not handed on twice there. NULL: stored before this column, or moved in.
ALTER TABLE inbox ADD COLUMN accepted_by text;
