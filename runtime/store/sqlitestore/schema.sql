-- smithc store schema, version 9
-- What migrations 1 to 9 leave, as sqlite_master records it: a new store is
-- created from this file in one step. Generated: do not edit, add a migration and run
-- SMITHC_UPDATE=1 go test -run TestFreshSchemaIsTheMigratedSchema ./runtime/store/sqlitestore

CREATE TABLE run (
  id               TEXT PRIMARY KEY,
  workflow         TEXT NOT NULL,
  parent_run_id    TEXT NOT NULL DEFAULT '',
  parent_node      TEXT NOT NULL DEFAULT '',
  source_path      TEXT NOT NULL DEFAULT '',
  source_hash      TEXT NOT NULL DEFAULT '',
  input            TEXT NOT NULL DEFAULT 'null',
  status           TEXT NOT NULL,
  output           TEXT NOT NULL DEFAULT 'null',
  error            TEXT NOT NULL DEFAULT '',
  owner            TEXT NOT NULL DEFAULT '',
  owner_start      TEXT NOT NULL DEFAULT '',
  lease_expires_at TEXT NOT NULL DEFAULT '',
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  finished_at      TEXT NOT NULL DEFAULT ''
, pause_requested INTEGER NOT NULL DEFAULT 0, fence INTEGER NOT NULL DEFAULT 0);

CREATE INDEX run_status_idx ON run (status, created_at);

CREATE INDEX run_parent_idx ON run (parent_run_id);

CREATE TABLE node (
  run_id      TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id     TEXT NOT NULL,
  scope       TEXT NOT NULL DEFAULT '',
  iteration   INTEGER NOT NULL DEFAULT 0,
  kind        TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  output      TEXT NOT NULL DEFAULT 'null',
  output_type TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT '',
  error_kind  TEXT NOT NULL DEFAULT '',
  data        TEXT NOT NULL DEFAULT 'null',
  started_at  TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  updated_at  TEXT NOT NULL DEFAULT '', attempt TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, node_id, scope)
) WITHOUT ROWID;

CREATE TABLE attempt (
  run_id           TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id          TEXT NOT NULL,
  scope            TEXT NOT NULL DEFAULT '',
  number           INTEGER NOT NULL CHECK (number >= 1),
  state            TEXT NOT NULL,
  owner            TEXT NOT NULL DEFAULT '',
  lease_expires_at TEXT NOT NULL DEFAULT '',
  heartbeat_at     TEXT NOT NULL DEFAULT '',
  detail           TEXT NOT NULL DEFAULT '',
  error            TEXT NOT NULL DEFAULT '',
  error_kind       TEXT NOT NULL DEFAULT '',
  started_at       TEXT NOT NULL,
  finished_at      TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0, pid_start TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, node_id, scope, number)
) WITHOUT ROWID;

CREATE TABLE approval (
  run_id       TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id      TEXT NOT NULL,
  scope        TEXT NOT NULL DEFAULT '',
  title        TEXT NOT NULL DEFAULT '',
  summary      TEXT NOT NULL DEFAULT '',
  requested_at TEXT NOT NULL,
  decided      INTEGER NOT NULL DEFAULT 0,
  approved     INTEGER NOT NULL DEFAULT 0,
  decided_by   TEXT NOT NULL DEFAULT '',
  note         TEXT NOT NULL DEFAULT '',
  data         TEXT NOT NULL DEFAULT 'null',
  decided_at   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, node_id, scope)
) WITHOUT ROWID;

CREATE TABLE signal (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id         TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  data           TEXT NOT NULL DEFAULT 'null',
  sent_at        TEXT NOT NULL,
  consumed       INTEGER NOT NULL DEFAULT 0,
  consumer_node  TEXT NOT NULL DEFAULT '',
  consumer_scope TEXT NOT NULL DEFAULT '',
  consumed_at    TEXT NOT NULL DEFAULT ''
);

CREATE INDEX signal_run_idx ON signal (run_id, name, consumed, id);

CREATE TABLE cache_entry (
  workflow    TEXT NOT NULL,
  source_hash TEXT NOT NULL,
  key         TEXT NOT NULL,
  output      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (workflow, source_hash, key)
) WITHOUT ROWID;

CREATE TABLE source_blob (
  hash    TEXT PRIMARY KEY,
  content BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE run_source (
  run_id   TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  position INTEGER NOT NULL CHECK (position >= 0),
  path     TEXT NOT NULL,
  hash     TEXT NOT NULL REFERENCES source_blob (hash),
  PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

CREATE INDEX run_source_hash_idx ON run_source (hash);

CREATE TABLE "event" (
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

CREATE INDEX event_run_idx ON event (run_id, seq);

CREATE INDEX node_type_idx ON node (output_type, run_id) WHERE state = 'finished' AND output_type <> '';

CREATE TABLE run_input (
  run_id TEXT PRIMARY KEY REFERENCES run (id) ON DELETE CASCADE,
  input  TEXT NOT NULL
);

CREATE INDEX event_agent_reply_idx ON event (run_id, seq) WHERE kind = 'AgentReply';
