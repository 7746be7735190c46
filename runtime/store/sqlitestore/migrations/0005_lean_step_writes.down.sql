DROP INDEX node_type_idx;
CREATE INDEX node_type_idx ON node (output_type, run_id);
CREATE INDEX attempt_state_idx ON attempt (run_id, state);
CREATE TABLE event_autoinc (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id    TEXT NOT NULL,
  node_id   TEXT NOT NULL DEFAULT '',
  scope     TEXT NOT NULL DEFAULT '',
  iteration INTEGER NOT NULL DEFAULT 0,
  attempt   INTEGER NOT NULL DEFAULT 0,
  kind      TEXT NOT NULL,
  time      TEXT NOT NULL,
  data      TEXT NOT NULL DEFAULT 'null'
);
INSERT INTO event_autoinc (seq, run_id, node_id, scope, iteration, attempt, kind, time, data)
  SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event ORDER BY seq;
DROP TABLE event;
ALTER TABLE event_autoinc RENAME TO event;
CREATE INDEX event_run_idx ON event (run_id, seq);
