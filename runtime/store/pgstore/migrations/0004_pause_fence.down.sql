ALTER TABLE run DROP COLUMN fence;
ALTER TABLE run DROP COLUMN pause_requested;
