-- pause_requested: smithc pause asks the owner to stop scheduling.
-- fence: incremented at each claim; an owner's writes check it, so that a
-- stale owner (stopped past its lease, then taken over) commits nothing.
ALTER TABLE run ADD COLUMN pause_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
