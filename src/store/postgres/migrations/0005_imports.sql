-- Data moved in from a field office's embedded store (`kabar migrate-store`), one row per
-- source data folder. While a move is unfinished (`finished_at` empty) no replica starts: it
-- would answer people whose conversation state is not there yet. Running the move again
-- continues it (every record is written by its key, so a second copy overwrites the first).
CREATE TABLE store_imports (
    source      text PRIMARY KEY,
    started_at  bigint NOT NULL,
    finished_at bigint,
    counts      jsonb
);
