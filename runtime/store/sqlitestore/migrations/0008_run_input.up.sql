-- A run's input apart from its row.
--
-- SQLite rewrites a whole row on every UPDATE, and a run's row is updated
-- at each session's start and end and at every lease renewal: a run with
-- a 10 MB input wrote its 10 MB again each time. From this version on,
-- an input longer than 1 KiB is kept in run_input (written once, at the
-- run's creation) and the row's input is '' (no stored input is empty
-- text: an absent one is 'null'). Shorter inputs, and the rows written
-- before, stay in the row.
CREATE TABLE run_input (
  run_id TEXT PRIMARY KEY REFERENCES run (id) ON DELETE CASCADE,
  input  TEXT NOT NULL
);
