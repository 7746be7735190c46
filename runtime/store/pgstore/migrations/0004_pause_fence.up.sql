-- pause_requested: smithc pause asks the owner to stop scheduling.
-- fence: incremented at each claim; an owner's writes check it.
ALTER TABLE run ADD COLUMN pause_requested BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE run ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
