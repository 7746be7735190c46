-- Fewer pages written per step commit.
--
-- event.seq without AUTOINCREMENT: a new event takes max(seq) + 1, which
-- still increases in commit order across all runs because events are
-- never deleted; no sqlite_sequence row is rewritten on every commit.
CREATE TABLE event_lean (
  seq       INTEGER PRIMARY KEY,
  run_id    TEXT NOT NULL,
  node_id   TEXT NOT NULL DEFAULT '',
  scope     TEXT NOT NULL DEFAULT '',
  iteration INTEGER NOT NULL DEFAULT 0,
  attempt   INTEGER NOT NULL DEFAULT 0,
  kind      TEXT NOT NULL,
  time      TEXT NOT NULL,
  data      TEXT NOT NULL DEFAULT 'null'
);
INSERT INTO event_lean (seq, run_id, node_id, scope, iteration, attempt, kind, time, data)
  SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event ORDER BY seq;
DROP TABLE event;
ALTER TABLE event_lean RENAME TO event;
CREATE INDEX event_run_idx ON event (run_id, seq);

-- Attempts are read by run (the primary key's prefix); no query needs
-- them by state across a run's rows in an index of its own.
DROP INDEX attempt_state_idx;

-- The type views read finished nodes of a named type only: a node row
-- that is not finished (a step starting, a control node running), or
-- has no output type (most compute steps), is not indexed.
DROP INDEX node_type_idx;
CREATE INDEX node_type_idx ON node (output_type, run_id) WHERE state = 'finished' AND output_type <> '';
